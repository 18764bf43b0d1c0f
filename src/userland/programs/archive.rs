//! `tar` (through the `tar` crate, gzip by `flate2`, bzip2 by `bzip2`) and
//! `gzip gunzip zcat`. Extraction never leaves the destination: leading
//! `/` is dropped (both tools say so once) and `..` members are refused
//! by GNU tar or stripped by busybox, as each does.

use super::util::{self, gnu, prog};
use crate::layer::Content;
use crate::userland::fs::{Cred, FileType, join};
use crate::userland::proc::Ctx;
use std::io::{Read, Write};

fn gunzip_bytes(b: &[u8]) -> Result<Vec<u8>, String> {
    let mut d = flate2::read::MultiGzDecoder::new(b);
    let mut v = Vec::new();
    d.read_to_end(&mut v).map_err(|e| e.to_string())?;
    Ok(v)
}

fn gzip_bytes(b: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level.min(9)));
    let _ = e.write_all(b);
    e.finish().unwrap_or_default()
}

fn bunzip_bytes(b: &[u8]) -> Result<Vec<u8>, String> {
    let mut d = bzip2::read::MultiBzDecoder::new(b);
    let mut v = Vec::new();
    d.read_to_end(&mut v).map_err(|e| e.to_string())?;
    Ok(v)
}

/// One member read from an archive.
#[derive(Debug)]
pub struct Member {
    pub path: String,
    pub kind: char,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub uname: String,
    pub gname: String,
    pub mtime: u64,
    pub link: String,
    pub data: Vec<u8>,
}

/// Reads every member of a (decompressed) tar stream. Never panics on
/// arbitrary bytes.
pub fn read_members(b: &[u8]) -> Result<Vec<Member>, String> {
    let mut ar = tar::Archive::new(b);
    let mut v = Vec::new();
    let entries = ar.entries().map_err(|e| e.to_string())?;
    for e in entries {
        let mut e = e.map_err(|e| e.to_string())?;
        let h = e.header().clone();
        let path = e
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| e.to_string())?;
        let link = e
            .link_name()
            .ok()
            .flatten()
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = match h.entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Link => 'h',
            tar::EntryType::Regular | tar::EntryType::Continuous => '-',
            tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink
            | tar::EntryType::XHeader
            | tar::EntryType::XGlobalHeader => continue,
            _ => '?',
        };
        let mut data = Vec::new();
        if kind == '-' {
            if h.size().unwrap_or(0) > crate::userland::fs::MAX_FILE {
                return Err("File too large".into());
            }
            e.read_to_end(&mut data).map_err(|e| e.to_string())?;
        }
        v.push(Member {
            path,
            kind,
            mode: h.mode().unwrap_or(0o644) & 0o7777,
            uid: h.uid().unwrap_or(0) as u32,
            gid: h.gid().unwrap_or(0) as u32,
            uname: h.username().ok().flatten().unwrap_or("").to_string(),
            gname: h.groupname().ok().flatten().unwrap_or("").to_string(),
            mtime: h.mtime().unwrap_or(0),
            link,
            data,
        });
    }
    Ok(v)
}

/// Decompresses by magic number (both tars detect it on reading).
fn decompress(b: Vec<u8>) -> Result<Vec<u8>, String> {
    if b.starts_with(&[0x1f, 0x8b]) {
        gunzip_bytes(&b)
    } else if b.starts_with(b"BZh") {
        bunzip_bytes(&b)
    } else {
        Ok(b)
    }
}

/// `tar -c|-x|-t [-zjvpO] [-f FILE] [-C DIR] [--strip-components N] [FILE]...`
pub fn tar(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let g = gnu(ctx);
    let mut mode = None;
    let mut gz = false;
    let mut bz = false;
    let mut verbose = false;
    let mut file: Option<String> = None;
    let mut dir: Option<String> = None;
    let mut strip = 0usize;
    let mut to_stdout = false;
    let mut no_same_owner = false;
    let mut ops = Vec::new();
    let mut excludes: Vec<String> = Vec::new();
    let mut args: Vec<String> = argv[1..].to_vec();
    // Old-style first word without a dash: `tar xzf a.tgz`.
    if let Some(first) = args.first()
        && !first.starts_with('-')
        && first.chars().all(|c| "cxtzjvfCpOo".contains(c))
    {
        args[0] = format!("-{first}");
    }
    let mut i = 0;
    while i < args.len() {
        let a = args[i].clone();
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            let (name, val) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let mut take = || -> Option<String> {
                val.clone().or_else(|| {
                    let v = args.get(i).cloned();
                    i += 1;
                    v
                })
            };
            match name {
                "create" => mode = Some('c'),
                "extract" | "get" => mode = Some('x'),
                "list" => mode = Some('t'),
                "gzip" | "gunzip" => gz = true,
                "bzip2" => bz = true,
                "verbose" => verbose = true,
                "file" => file = take(),
                "directory" => dir = take(),
                "strip-components" => strip = take().and_then(|v| v.parse().ok()).unwrap_or(0),
                "to-stdout" => to_stdout = true,
                "no-same-owner" => no_same_owner = true,
                "exclude" => excludes.extend(take()),
                "same-owner"
                | "preserve-permissions"
                | "same-permissions"
                | "numeric-owner"
                | "overwrite"
                | "no-same-permissions" => {}
                "owner" | "group" | "mode" | "mtime" => {
                    take();
                }
                _ => {
                    return util::opt_error(ctx, &p, &util::OptError::UnknownLong(a.clone()), 2);
                }
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            for c in chars {
                match c {
                    'c' | 'x' | 't' => mode = Some(c),
                    'z' => gz = true,
                    'j' => bz = true,
                    'v' => verbose = true,
                    'p' | 'h' | 'k' | 'm' | 'a' => {}
                    'o' => no_same_owner = true,
                    'O' => to_stdout = true,
                    'f' | 'C' | 'X' => {
                        let v = args.get(i).cloned();
                        i += 1;
                        let Some(v) = v else {
                            return util::opt_error(ctx, &p, &util::OptError::Missing(c), 2);
                        };
                        match c {
                            'f' => file = Some(v),
                            'C' => dir = Some(v),
                            _ => {}
                        }
                    }
                    _ => return util::opt_error(ctx, &p, &util::OptError::Unknown(c), 2),
                }
            }
            continue;
        }
        ops.push(a);
    }
    let Some(mode) = mode else {
        ctx.err(if g {
            format!("{p}: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry '{p} --help' or '{p} --usage' for more information.\n")
        } else {
            format!("{p}: need to specify one of -c, -t, -x\n")
        });
        return 2;
    };
    let base = dir
        .as_deref()
        .map(|d| ctx.path(d))
        .unwrap_or_else(|| ctx.cwd.clone());
    if dir.is_some() && !ctx.fs.is_dir(&base) {
        let d = dir.clone().unwrap_or_default();
        ctx.err(if g {
            format!("{p}: {d}: Cannot open: No such file or directory\n{p}: Error is not recoverable: exiting now\n")
        } else {
            format!("{p}: can't change directory to '{d}': No such file or directory\n")
        });
        return 2;
    }
    let fail_tail = |ctx: &Ctx| {
        if g {
            ctx.err(format!(
                "{p}: Exiting with failure status due to previous errors\n"
            ));
        }
    };
    if mode == 'c' {
        if ops.is_empty() {
            ctx.err(if g { format!("{p}: Cowardly refusing to create an empty archive\nTry '{p} --help' or '{p} --usage' for more information.\n") } else { format!("{p}: empty archive\n") });
            return 2;
        }
        let mut b = tar::Builder::new(Vec::new());
        let mut status = 0;
        let mut warned = false;
        let mut listing = String::new();
        for op in &ops {
            let abs = join(&base, op);
            let st = match ctx.fs.stat(&abs, false) {
                Ok(s) => s,
                Err(e) => {
                    ctx.err(if g {
                        format!("{p}: {op}: Cannot stat: {e}\n")
                    } else {
                        format!("{p}: {op}: {e}\n")
                    });
                    status = 2;
                    continue;
                }
            };
            let mut name = op.trim_end_matches('/').to_string();
            if name.starts_with('/') {
                if !warned {
                    ctx.err(if g {
                        format!("{p}: Removing leading `/' from member names\n")
                    } else {
                        format!("{p}: removing leading '/' from member names\n")
                    });
                    warned = true;
                }
                name = name.trim_start_matches('/').to_string();
            }
            let mut items = vec![(name.clone(), abs.clone(), st.clone())];
            if st.kind == FileType::Dir {
                let r = st.path.clone();
                for k in ctx.fs.walk(&abs).unwrap_or_default() {
                    let rel = if r.is_empty() {
                        k.clone()
                    } else {
                        k[r.len() + 1..].to_string()
                    };
                    let a = join(&abs, &rel);
                    if let Ok(s) = ctx.fs.stat(&a, false) {
                        let n = if name.is_empty() {
                            rel.clone()
                        } else {
                            format!("{name}/{rel}")
                        };
                        items.push((n, a, s));
                    }
                }
            }
            for (n, a, s) in items {
                if ctx.step().is_err() {
                    return 2;
                }
                if excludes
                    .iter()
                    .any(|x| super::find::glob(x, n.rsplit('/').next().unwrap_or(&n), false))
                {
                    continue;
                }
                let mut h = tar::Header::new_gnu();
                h.set_mode(s.mode);
                h.set_uid(s.uid as u64);
                h.set_gid(s.gid as u64);
                h.set_mtime(s.mtime);
                let _ = h.set_username(&util::user_name(ctx, s.uid).unwrap_or_default());
                let _ = h.set_groupname(&util::group_name(ctx, s.gid).unwrap_or_default());
                let shown = match s.kind {
                    FileType::Dir => format!("{n}/"),
                    _ => n.clone(),
                };
                let r = match s.kind {
                    FileType::Dir => {
                        h.set_entry_type(tar::EntryType::Directory);
                        h.set_size(0);
                        b.append_data(&mut h, format!("{n}/"), std::io::empty())
                    }
                    FileType::Symlink => {
                        h.set_entry_type(tar::EntryType::Symlink);
                        h.set_size(0);
                        let t = ctx.fs.read_link(&a).unwrap_or_default();
                        b.append_link(&mut h, &n, &t)
                    }
                    FileType::File => {
                        if util::may_read(ctx, &a).is_err() {
                            ctx.err(if g {
                                format!("{p}: {n}: Cannot open: Permission denied\n")
                            } else {
                                format!("{p}: can't open '{n}': Permission denied\n")
                            });
                            status = 2;
                            continue;
                        }
                        let data = ctx.fs.read(&a).unwrap_or_default();
                        h.set_entry_type(tar::EntryType::Regular);
                        h.set_size(data.len() as u64);
                        b.append_data(&mut h, &n, data.as_slice())
                    }
                };
                if r.is_err() {
                    status = 2;
                    continue;
                }
                if verbose {
                    listing.push_str(&format!("{shown}\n"));
                }
            }
        }
        let bytes = b.into_inner().unwrap_or_default();
        let bytes = if gz { gzip_bytes(&bytes, 6) } else { bytes };
        let to_out = file.as_deref().is_none_or(|f| f == "-");
        if verbose {
            // GNU lists to stdout, or to stderr when the archive goes there.
            if to_out {
                ctx.err(listing)
            } else {
                ctx.out(listing)
            }
        }
        if to_out {
            let _ = ctx.stdout.write(&bytes);
        } else if let Some(f) = &file {
            let fabs = ctx.path(f);
            let c = util::cred(ctx);
            let r = util::may_create(ctx, &fabs)
                .and_then(|_| ctx.fs.write(&fabs, Content::bytes(bytes), 0o644, c));
            if let Err(e) = r {
                ctx.err(if g {
                    format!(
                        "{p}: {f}: Cannot open: {e}\n{p}: Error is not recoverable: exiting now\n"
                    )
                } else {
                    format!("{p}: can't open '{f}': {e}\n")
                });
                return 2;
            }
        }
        if status != 0 {
            fail_tail(ctx);
        }
        return if status != 0 && !g { 1 } else { status };
    }
    // -x and -t.
    let raw = match file.as_deref() {
        None | Some("-") => ctx.stdin.clone(),
        Some(f) => {
            match util::read_input(ctx, f) {
                Ok(b) => b,
                Err(e) => {
                    ctx.err(if g {
                    format!("{p}: {f}: Cannot open: {e}\n{p}: Error is not recoverable: exiting now\n")
                } else {
                    format!("{p}: can't open '{f}': {e}\n")
                });
                    return 2;
                }
            }
        }
    };
    let _ = (gz, bz);
    let members = match decompress(raw).and_then(|b| read_members(&b)) {
        Ok(m) => m,
        Err(_) => {
            ctx.err(if g {
                format!("{p}: This does not look like a tar archive\n{p}: Exiting with failure status due to previous errors\n")
            } else {
                format!("{p}: invalid tar magic\n")
            });
            return 2;
        }
    };
    let mut status = 0;
    let mut warned = false;
    let mut out = String::new();
    for m in members {
        if ctx.step().is_err() {
            return 2;
        }
        // Make the name safe.
        let mut name = m.path.clone();
        if name.starts_with('/') {
            if !warned && mode == 'x' {
                ctx.err(if g {
                    format!("{p}: Removing leading `/' from member names\n")
                } else {
                    format!("{p}: removing leading '/' from member names\n")
                });
                warned = true;
            }
            name = name.trim_start_matches('/').to_string();
        }
        if name.split('/').any(|c| c == "..") {
            if g {
                ctx.err(format!("{p}: {}: Member name contains '..'\n", m.path));
                status = 2;
                continue;
            }
            // busybox strips everything up to the last "../".
            let idx = name.rfind("../").map(|i| i + 3).unwrap_or(0);
            if !warned {
                ctx.err(format!(
                    "{p}: removing leading '{}' from member names\n",
                    &name[..idx]
                ));
                warned = true;
            }
            name = name[idx..].to_string();
            if name.split('/').any(|c| c == "..") {
                continue;
            }
        }
        let comps: Vec<&str> = name
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        if comps.len() <= strip {
            continue;
        }
        let rel = comps[strip..].join("/");
        if !ops.is_empty()
            && !ops.iter().any(|o| {
                rel == o.trim_end_matches('/')
                    || rel.starts_with(&format!("{}/", o.trim_end_matches('/')))
                    || m.path.trim_end_matches('/') == o.trim_end_matches('/')
            })
        {
            continue;
        }
        if mode == 't' {
            if verbose {
                let owner = if m.uname.is_empty() {
                    m.uid.to_string()
                } else {
                    m.uname.clone()
                };
                let group = if m.gname.is_empty() {
                    m.gid.to_string()
                } else {
                    m.gname.clone()
                };
                let t = match m.kind {
                    'd' => 'd',
                    'l' => 'l',
                    'h' => 'h',
                    _ => '-',
                };
                let st = crate::userland::fs::Stat {
                    path: String::new(),
                    kind: match t {
                        'd' => FileType::Dir,
                        'l' => FileType::Symlink,
                        _ => FileType::File,
                    },
                    mode: m.mode,
                    uid: m.uid,
                    gid: m.gid,
                    size: m.data.len() as u64,
                    mtime: m.mtime,
                };
                let ms = util::mode_string(&st);
                let date = util::datetime(m.mtime).format(if g {
                    "%Y-%m-%d %H:%M"
                } else {
                    "%Y-%m-%d %H:%M:%S"
                });
                let tail = match m.kind {
                    'l' => format!(" -> {}", m.link),
                    'h' => format!(" link to {}", m.link),
                    _ => String::new(),
                };
                let og = format!("{owner}/{group}");
                out.push_str(&format!(
                    "{ms} {og} {:>w$} {date} {}{tail}\n",
                    m.data.len(),
                    m.path,
                    w = 18usize.saturating_sub(og.len()).max(1)
                ));
            } else {
                out.push_str(&format!("{}\n", m.path));
            }
            continue;
        }
        if verbose {
            out.push_str(&format!("{}\n", m.path));
        }
        if to_stdout {
            if m.kind == '-' {
                let _ = ctx.stdout.write(&m.data);
            }
            continue;
        }
        let dst = join(&base, &rel);
        let owner = if ctx.user.uid == 0 && !no_same_owner {
            Cred {
                uid: m.uid,
                gid: m.gid,
            }
        } else {
            util::cred(ctx)
        };
        // Parents the archive does not list are made as tar does.
        let parent = join(&dst, "..");
        if !ctx.fs.is_dir(&parent) {
            let c = util::cred(ctx);
            let _ = ctx.fs.mkdir(&parent, 0o755, c, true);
        }
        let r = (|| match m.kind {
            'd' => {
                if !ctx.fs.is_dir(&dst) {
                    util::may_create(ctx, &dst)?;
                    if ctx.fs.stat(&dst, false).is_ok() {
                        ctx.fs.remove(&dst, false)?;
                    }
                    ctx.fs.mkdir(&dst, m.mode, owner, false)?;
                }
                ctx.fs.set_meta(
                    &dst,
                    true,
                    Some(m.mode),
                    Some((Some(owner.uid), Some(owner.gid))),
                    Some(m.mtime),
                )
            }
            'l' => {
                util::may_create(ctx, &dst)?;
                if ctx.fs.stat(&dst, false).is_ok() {
                    ctx.fs.remove_all(&dst)?;
                }
                ctx.fs.symlink(&m.link, &dst, owner)?;
                ctx.fs.set_meta(&dst, false, None, None, Some(m.mtime))
            }
            'h' => {
                let target_rel: Vec<&str> = m.link.split('/').filter(|s| !s.is_empty()).collect();
                let t = join(
                    &base,
                    &target_rel
                        .iter()
                        .skip(strip)
                        .copied()
                        .collect::<Vec<_>>()
                        .join("/"),
                );
                let data = ctx.fs.read(&t)?;
                util::may_create(ctx, &dst)?;
                ctx.fs.write(&dst, Content::bytes(data), m.mode, owner)
            }
            _ => {
                util::may_create(ctx, &dst)?;
                if ctx
                    .fs
                    .stat(&dst, false)
                    .is_ok_and(|s| s.kind == FileType::Symlink)
                {
                    ctx.fs.remove(&dst, false)?;
                }
                ctx.fs
                    .write(&dst, Content::bytes(m.data.clone()), m.mode, owner)?;
                ctx.fs.set_meta(
                    &dst,
                    true,
                    Some(m.mode),
                    Some((Some(owner.uid), Some(owner.gid))),
                    Some(m.mtime),
                )
            }
        })();
        if let Err(e) = r {
            ctx.err(if g {
                format!("{p}: {}: Cannot open: {e}\n", m.path)
            } else {
                format!("{p}: can't create '{}': {e}\n", m.path)
            });
            status = 2;
        }
    }
    ctx.out(out);
    if status != 0 {
        fail_tail(ctx);
        return if g { 2 } else { 1 };
    }
    0
}

/// `gzip [-dcfk1-9] [FILE]...`, `gunzip`, `zcat`.
pub fn gzip(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let g = gnu(ctx);
    let mut decompress = p == "gunzip" || p == "zcat";
    let mut to_stdout = p == "zcat";
    let mut keep = false;
    let mut force = false;
    let mut level = 6;
    let mut ops = Vec::new();
    for a in &argv[1..] {
        match a.as_str() {
            "--decompress" | "--uncompress" => decompress = true,
            "--stdout" | "--to-stdout" => to_stdout = true,
            "--keep" => keep = true,
            "--force" => force = true,
            "--best" => level = 9,
            "--fast" => level = 1,
            "--quiet" | "--verbose" | "--no-name" | "--name" => {}
            s if s.starts_with('-') && s.len() > 1 && !s.starts_with("--") => {
                for c in s[1..].chars() {
                    match c {
                        'd' => decompress = true,
                        'c' => to_stdout = true,
                        'k' => keep = true,
                        'f' => force = true,
                        'n' | 'N' | 'q' | 'v' | 't' => {}
                        d if d.is_ascii_digit() => level = d.to_digit(10).unwrap_or(6),
                        _ => return util::opt_error(ctx, &p, &util::OptError::Unknown(c), 1),
                    }
                }
            }
            s if s.starts_with("--") => {
                return util::opt_error(ctx, &p, &util::OptError::UnknownLong(s.to_string()), 1);
            }
            _ => ops.push(a.clone()),
        }
    }
    if ops.is_empty() {
        ops.push("-".into());
    }
    let mut status = 0;
    for f in &ops {
        let data = match util::read_input(ctx, f) {
            Ok(b) => b,
            Err(e) => {
                ctx.err(if g {
                    format!("{p}: {f}: {e}\n")
                } else {
                    format!("{p}: can't open '{f}': {e}\n")
                });
                status = 1;
                continue;
            }
        };
        if f != "-" && ctx.fs.is_dir(&ctx.path(f)) {
            ctx.err(format!("{p}: {f} is a directory -- ignored\n"));
            status = if g { 2 } else { 1 };
            continue;
        }
        let result = if decompress {
            if !data.starts_with(&[0x1f, 0x8b]) {
                ctx.err(if g {
                    format!("{p}: {f}: not in gzip format\n")
                } else {
                    format!("{p}: invalid magic\n")
                });
                status = 1;
                continue;
            }
            match gunzip_bytes(&data) {
                Ok(v) => v,
                Err(_) => {
                    ctx.err(if g {
                        format!("{p}: {f}: unexpected end of file\n")
                    } else {
                        format!("{p}: corrupted data\n")
                    });
                    status = 1;
                    continue;
                }
            }
        } else {
            gzip_bytes(&data, level)
        };
        if to_stdout || f == "-" {
            let _ = ctx.stdout.write(&result);
            continue;
        }
        let src = ctx.path(f);
        let dst = if decompress {
            match f
                .strip_suffix(".gz")
                .or_else(|| f.strip_suffix(".tgz").map(|_| ""))
            {
                Some(s) if !s.is_empty() => ctx.path(s),
                _ => {
                    ctx.err(if g {
                        format!("{p}: {f}: unknown suffix -- ignored\n")
                    } else {
                        format!("{p}: can't remove .gz suffix\n")
                    });
                    status = if g { 2 } else { 1 };
                    continue;
                }
            }
        } else {
            if f.ends_with(".gz") {
                ctx.err(format!("{p}: {f} already has .gz suffix -- unchanged\n"));
                status = if g { 2 } else { 1 };
                continue;
            }
            format!("{src}.gz")
        };
        if ctx.fs.exists(&dst) && !force {
            let shown = dst.rsplit('/').next().unwrap_or(&dst).to_string();
            ctx.err(if g {
                format!("{p}: {shown} already exists; not overwritten\n")
            } else {
                format!("{p}: can't open '{shown}': File exists\n")
            });
            status = if g { 2 } else { 1 };
            continue;
        }
        let st = ctx.fs.stat(&src, true).ok();
        let c = util::cred(ctx);
        let r = util::may_create(ctx, &dst).and_then(|_| {
            ctx.fs.write(
                &dst,
                Content::bytes(result),
                st.as_ref().map(|s| s.mode).unwrap_or(0o644),
                c,
            )
        });
        if let Err(e) = r {
            ctx.err(format!("{p}: {f}: {e}\n"));
            status = 1;
            continue;
        }
        if let Some(s) = st {
            let _ = ctx.fs.set_meta(
                &dst,
                true,
                Some(s.mode),
                Some((Some(s.uid), Some(s.gid))),
                Some(s.mtime),
            );
        }
        if !keep {
            let _ = ctx.fs.remove(&src, false);
        }
    }
    status
}
