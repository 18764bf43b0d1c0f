//! The text filters: `cat head tail wc sort uniq cut tr tee base64
//! basename dirname`. Each reads its file operands (or standard input)
//! and writes standard output; a file it cannot read is reported in the
//! dialect's words and the others still processed.

use super::util::{self, Spec, gnu, prog};
use crate::layer::Content;
use crate::userland::fs::Errno;
use crate::userland::proc::Ctx;

/// Reports an input that could not be read (`cat: x: No such file...`
/// for GNU, `cat: can't open 'x': ...` for busybox).
pub fn open_error(ctx: &Ctx, p: &str, f: &str, e: Errno) {
    if gnu(ctx) {
        ctx.err(format!("{p}: {f}: {e}\n"));
    } else if e == Errno::IsDir {
        ctx.err(format!("{p}: read error: Is a directory\n"));
    } else {
        ctx.err(format!("{p}: can't open '{f}': {e}\n"));
    }
}

/// Reads every operand (stdin when there are none), reporting failures.
fn inputs(ctx: &Ctx, p: &str, ops: &[String]) -> (Vec<(String, Vec<u8>)>, i32) {
    let names: Vec<String> = if ops.is_empty() {
        vec!["-".into()]
    } else {
        ops.to_vec()
    };
    let mut v = Vec::new();
    let mut status = 0;
    for n in names {
        match util::read_input(ctx, &n) {
            Ok(b) => v.push((n, b)),
            Err(e) => {
                if gnu(ctx) && e == Errno::IsDir && p == "cat" {
                    ctx.err(format!("{p}: {n}: Is a directory\n"));
                } else {
                    open_error(ctx, p, &n, e);
                }
                status = 1;
            }
        }
    }
    (v, status)
}

fn lines(b: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = b.split_inclusive(|c| *c == b'\n').collect();
    if v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

/// `cat [-nbAevt] [FILE]...`
pub fn cat(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "nbuAevtsE",
        with_arg: "",
        longs: &[
            ("number", 'n'),
            ("number-nonblank", 'b'),
            ("show-all", 'A'),
            ("show-ends", 'E'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let names: Vec<String> = if o.operands.is_empty() {
        vec!["-".into()]
    } else {
        o.operands.clone()
    };
    let mut status = 0;
    let mut n = 0;
    for f in &names {
        match util::read_input(ctx, f) {
            Ok(b) => {
                if o.has('n') || o.has('b') || o.has('E') || o.has('A') {
                    let mut out = Vec::new();
                    for l in lines(&b) {
                        let blank = l == b"\n";
                        if o.has('b') && blank {
                        } else if o.has('n') || o.has('b') {
                            n += 1;
                            out.extend_from_slice(format!("{n:6}\t").as_bytes());
                        }
                        if (o.has('E') || o.has('A')) && l.ends_with(b"\n") {
                            out.extend_from_slice(&l[..l.len() - 1]);
                            out.extend_from_slice(b"$\n");
                        } else {
                            out.extend_from_slice(l);
                        }
                    }
                    let _ = ctx.stdout.write(&out);
                } else {
                    let _ = ctx.stdout.write(&b);
                }
            }
            Err(e) => {
                if gnu(ctx) {
                    ctx.err(format!("{p}: {f}: {e}\n"));
                } else if e == Errno::IsDir {
                    ctx.err(format!("{p}: read error: Is a directory\n"));
                } else {
                    ctx.err(format!("{p}: can't open '{f}': {e}\n"));
                }
                status = 1;
            }
        }
    }
    status
}

/// Parses `-n` counts: `5`, `-5`, `+5` (from line 5).
fn count(s: &str) -> Option<(bool, u64)> {
    let (plus, n) = match s.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('-').unwrap_or(s)),
    };
    let (n, mult) = match n.char_indices().last() {
        Some((i, 'k')) | Some((i, 'K')) => (&n[..i], 1024),
        Some((i, 'c')) if i > 0 => (&n[..i], 512),
        _ => (n, 1),
    };
    n.parse::<u64>().ok().map(|v| (plus, v * mult))
}

/// Turns the historic `-5` / `+5` forms into `-n 5`.
fn old_count_form(argv: &[String]) -> Vec<String> {
    let mut v = Vec::new();
    for (i, a) in argv.iter().enumerate() {
        if i > 0 && a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| c.is_ascii_digit())
        {
            v.push("-n".into());
            v.push(a[1..].to_string());
        } else {
            v.push(a.clone());
        }
    }
    v
}

/// `head [-n N] [-c N] [FILE]...` and `tail [-n [+]N] [-c N] [-f]`.
pub fn head_tail(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let tail = p == "tail";
    let argv = old_count_form(argv);
    let spec = Spec {
        flags: "qvfF",
        with_arg: "nc",
        longs: &[
            ("lines", 'n'),
            ("bytes", 'c'),
            ("quiet", 'q'),
            ("silent", 'q'),
            ("verbose", 'v'),
            ("follow", 'f'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let bytes = o
        .flags
        .iter()
        .rev()
        .find(|(c, _)| *c == 'n' || *c == 'c')
        .is_some_and(|(c, _)| *c == 'c');
    let spec_s = o.val(if bytes { 'c' } else { 'n' }).unwrap_or("10");
    let Some((plus, n)) = count(spec_s) else {
        let what = if bytes { "bytes" } else { "lines" };
        ctx.err(if gnu(ctx) {
            format!("{p}: invalid number of {what}: '{spec_s}'\n")
        } else {
            format!("{p}: invalid number '{spec_s}'\n")
        });
        return 1;
    };
    let (ins, status) = inputs(ctx, &p, &o.operands);
    let show_names = (ins.len() > 1 && !o.has('q')) || o.has('v');
    let mut first = true;
    for (name, b) in ins {
        if show_names {
            let shown = if name == "-" {
                "standard input".to_string()
            } else {
                name.clone()
            };
            ctx.out(format!(
                "{}==> {shown} <==\n",
                if first { "" } else { "\n" }
            ));
        }
        first = false;
        let n = n as usize;
        let out: Vec<u8> = if bytes {
            if tail {
                if plus {
                    b[n.saturating_sub(1).min(b.len())..].to_vec()
                } else {
                    b[b.len().saturating_sub(n)..].to_vec()
                }
            } else {
                b[..n.min(b.len())].to_vec()
            }
        } else {
            let ls = lines(&b);
            let pick: Vec<&[u8]> = if tail {
                if plus {
                    ls.into_iter().skip(n.saturating_sub(1)).collect()
                } else {
                    let k = ls.len().saturating_sub(n);
                    ls.into_iter().skip(k).collect()
                }
            } else {
                ls.into_iter().take(n).collect()
            };
            pick.concat()
        };
        let _ = ctx.stdout.write(&out);
    }
    status
}

/// `wc [-lwcm] [FILE]...`
pub fn wc(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "lwcmL",
        with_arg: "",
        longs: &[
            ("lines", 'l'),
            ("words", 'w'),
            ("bytes", 'c'),
            ("chars", 'm'),
            ("max-line-length", 'L'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let (mut l, mut w, mut c) = (o.has('l'), o.has('w'), o.has('c') || o.has('m'));
    if !l && !w && !c {
        (l, w, c) = (true, true, true);
    }
    let (ins, status) = inputs(ctx, &p, &o.operands);
    let counts: Vec<(String, [u64; 3])> = ins
        .iter()
        .map(|(n, b)| {
            let lines = b.iter().filter(|c| **c == b'\n').count() as u64;
            let words = b
                .split(|c| c.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .count() as u64;
            let chars = if o.has('m') {
                String::from_utf8_lossy(b).chars().count() as u64
            } else {
                b.len() as u64
            };
            (n.clone(), [lines, words, chars])
        })
        .collect();
    let mut rows = counts.clone();
    if counts.len() > 1 {
        let mut t = [0u64; 3];
        for (_, c) in &counts {
            for i in 0..3 {
                t[i] += c[i];
            }
        }
        rows.push(("total".into(), t));
    }
    let sel = [l, w, c];
    let nsel = sel.iter().filter(|x| **x).count();
    let g = gnu(ctx);
    // GNU pads to the width of the largest count (at least 7 when reading
    // stdin with several columns); busybox uses %7u for all but a lone
    // column read from stdin.
    let width = if g {
        let maxw = rows
            .iter()
            .flat_map(|(_, c)| c.iter())
            .map(|v| v.to_string().len())
            .max()
            .unwrap_or(1);
        let from_stdin = o.operands.is_empty();
        if nsel == 1 && rows.len() == 1 && !from_stdin {
            0
        } else if from_stdin && nsel > 1 {
            maxw.max(7)
        } else {
            maxw
        }
    } else if nsel == 1 && o.operands.is_empty() {
        0
    } else {
        7
    };
    let mut s = String::new();
    for (name, cnt) in &rows {
        let cols: Vec<String> = (0..3)
            .filter(|i| sel[*i])
            .map(|i| format!("{:>width$}", cnt[i]))
            .collect();
        s.push_str(&cols.join(" "));
        if !(name == "-" && o.operands.is_empty()) {
            s.push(' ');
            s.push_str(name);
        }
        s.push('\n');
    }
    ctx.out(s);
    status
}

/// A `sort -k` key: fields (1-based) with options.
#[derive(Clone, Default)]
struct Key {
    start: usize,
    start_char: usize,
    end: Option<usize>,
    numeric: bool,
    reverse: bool,
}

fn parse_key(s: &str) -> Option<Key> {
    let mut k = Key::default();
    let (a, b) = match s.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let split = |x: &str| -> (String, String) {
        let i = x.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(x.len());
        (x[..i].to_string(), x[i..].to_string())
    };
    let (pos, flags) = split(a);
    let (f, c) = match pos.split_once('.') {
        Some((f, c)) => (f.parse().ok()?, c.parse().ok()?),
        None => (pos.parse().ok()?, 0),
    };
    if f == 0 {
        return None;
    }
    k.start = f;
    k.start_char = c;
    let mut all_flags = flags;
    if let Some(b) = b {
        let (pos, flags) = split(b);
        let f = pos.split('.').next()?.parse().ok()?;
        k.end = Some(f);
        all_flags.push_str(&flags);
    }
    for ch in all_flags.chars() {
        match ch {
            'n' | 'g' | 'h' => k.numeric = true,
            'r' => k.reverse = true,
            'b' | 'f' | 'd' | 'i' | 'V' | 'M' => {}
            _ => return None,
        }
    }
    Some(k)
}

fn fields_of(line: &str, sep: Option<char>) -> Vec<(usize, usize)> {
    // Byte ranges of each field.
    let mut v = Vec::new();
    match sep {
        Some(c) => {
            let mut start = 0;
            for (i, ch) in line.char_indices() {
                if ch == c {
                    v.push((start, i));
                    start = i + ch.len_utf8();
                }
            }
            v.push((start, line.len()));
        }
        None => {
            // Blank-separated; leading blanks belong to the field.
            let b = line.as_bytes();
            let mut i = 0;
            while i < b.len() {
                let s = i;
                while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                    i += 1;
                }
                while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                    i += 1;
                }
                v.push((s, i));
            }
        }
    }
    v
}

fn key_text<'a>(line: &'a str, k: &Key, sep: Option<char>) -> &'a str {
    let f = fields_of(line, sep);
    let Some(&(s, _)) = f.get(k.start - 1) else {
        return "";
    };
    let s = (s + k.start_char.saturating_sub(1)).min(line.len());
    let e = match k.end {
        Some(e) => f.get(e - 1).map(|x| x.1).unwrap_or(line.len()),
        None => line.len(),
    };
    line.get(s..e.max(s)).unwrap_or("")
}

fn num_prefix(s: &str) -> f64 {
    let t = s.trim_start();
    let mut end = 0;
    for (i, c) in t.char_indices() {
        if c.is_ascii_digit() || c == '.' || (i == 0 && c == '-') {
            end = i + c.len_utf8();
        } else {
            break;
        }
    }
    t[..end].parse().unwrap_or(0.0)
}

/// `sort [-nrufb] [-k KEY] [-t SEP] [-o FILE] [FILE]...`
pub fn sort(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "nrufbsVhgcdiM",
        with_arg: "kto",
        longs: &[
            ("numeric-sort", 'n'),
            ("reverse", 'r'),
            ("unique", 'u'),
            ("ignore-case", 'f'),
            ("key", 'k'),
            ("field-separator", 't'),
            ("output", 'o'),
            ("version-sort", 'V'),
            ("human-numeric-sort", 'h'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 2),
    };
    let sep = match o.val('t') {
        Some(t) if t.chars().count() == 1 => t.chars().next(),
        Some(t) => {
            ctx.err(if gnu(ctx) {
                format!("{p}: multi-character tab '{t}'\n")
            } else {
                format!("{p}: bad -t parameter\n")
            });
            return 2;
        }
        None => None,
    };
    let mut keys = Vec::new();
    for k in o.vals('k') {
        match parse_key(k) {
            Some(k) => keys.push(k),
            None => {
                ctx.err(if gnu(ctx) {
                    format!("{p}: invalid number at field start: invalid count at start of '{k}'\n")
                } else {
                    format!("{p}: invalid key '{k}'\n")
                });
                return 2;
            }
        }
    }
    let (ins, status) = inputs(ctx, &p, &o.operands);
    if status != 0 {
        return 2;
    }
    let mut all = String::new();
    for (_, b) in &ins {
        all.push_str(&String::from_utf8_lossy(b));
        if !all.is_empty() && !all.ends_with('\n') {
            all.push('\n');
        }
    }
    let mut ls: Vec<&str> = all.lines().collect();
    let numeric = o.has('n') || o.has('g') || o.has('h');
    let fold = o.has('f');
    let cmp_text = |a: &str, b: &str| {
        if fold {
            a.to_ascii_uppercase().cmp(&b.to_ascii_uppercase())
        } else {
            a.as_bytes().cmp(b.as_bytes())
        }
    };
    let cmp = |a: &&str, b: &&str| -> std::cmp::Ordering {
        use std::cmp::Ordering::Equal;
        if keys.is_empty() {
            let r = if numeric {
                num_prefix(a).partial_cmp(&num_prefix(b)).unwrap_or(Equal)
            } else {
                cmp_text(a, b)
            };
            return r;
        }
        for k in &keys {
            let (x, y) = (key_text(a, k, sep), key_text(b, k, sep));
            let r = if k.numeric || numeric {
                num_prefix(x).partial_cmp(&num_prefix(y)).unwrap_or(Equal)
            } else {
                cmp_text(x, y)
            };
            let r = if k.reverse { r.reverse() } else { r };
            if r != Equal {
                return r;
            }
        }
        Equal
    };
    let last_resort = !o.has('u') && !o.has('s');
    ls.sort_by(|a, b| {
        let r = cmp(a, b);
        let r = if r == std::cmp::Ordering::Equal && last_resort {
            a.as_bytes().cmp(b.as_bytes())
        } else {
            r
        };
        if o.has('r') { r.reverse() } else { r }
    });
    if o.has('u') {
        ls.dedup_by(|a, b| cmp(a, b) == std::cmp::Ordering::Equal);
    }
    let mut out = String::new();
    for l in ls {
        out.push_str(l);
        out.push('\n');
    }
    if let Some(f) = o.val('o') {
        let abs = ctx.path(f);
        let c = util::cred(ctx);
        if let Err(e) = ctx
            .fs
            .write(&abs, Content::bytes(out.into_bytes()), 0o644, c)
        {
            ctx.err(format!("{p}: {f}: {e}\n"));
            return 2;
        }
        return 0;
    }
    ctx.out(out);
    0
}

/// `uniq [-cdui] [INPUT [OUTPUT]]`
pub fn uniq(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "cdui",
        with_arg: "fs",
        longs: &[
            ("count", 'c'),
            ("repeated", 'd'),
            ("unique", 'u'),
            ("ignore-case", 'i'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let (ins, status) = inputs(ctx, &p, &o.operands[..o.operands.len().min(1)]);
    if status != 0 {
        return 1;
    }
    let text = ins
        .first()
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let mut groups: Vec<(String, usize)> = Vec::new();
    for l in text.lines() {
        match groups.last_mut() {
            Some((prev, n))
                if (if o.has('i') {
                    prev.eq_ignore_ascii_case(l)
                } else {
                    prev == l
                }) =>
            {
                *n += 1
            }
            _ => groups.push((l.to_string(), 1)),
        }
    }
    let mut out = String::new();
    for (l, n) in groups {
        if (o.has('d') && n < 2) || (o.has('u') && n > 1) {
            continue;
        }
        if o.has('c') {
            out.push_str(&format!("{n:7} {l}\n"));
        } else {
            out.push_str(&l);
            out.push('\n');
        }
    }
    if let Some(f) = o.operands.get(1) {
        let abs = ctx.path(f);
        let c = util::cred(ctx);
        if let Err(e) = ctx
            .fs
            .write(&abs, Content::bytes(out.into_bytes()), 0o644, c)
        {
            ctx.err(format!("{p}: {f}: {e}\n"));
            return 1;
        }
        return 0;
    }
    ctx.out(out);
    0
}

/// A `cut` list: `1,3-5,7-`.
fn parse_list(s: &str) -> Option<Vec<(usize, usize)>> {
    let mut v = Vec::new();
    for part in s.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 1 } else { a.parse().ok()? },
                if b.is_empty() {
                    usize::MAX
                } else {
                    b.parse().ok()?
                },
            ),
            None => {
                let n = part.parse().ok()?;
                (n, n)
            }
        };
        if a == 0 || b < a {
            return None;
        }
        v.push((a, b));
    }
    Some(v)
}

/// `cut -d D -f LIST | -c LIST | -b LIST [-s] [FILE]...`
pub fn cut(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "sn",
        with_arg: "dfcb",
        longs: &[
            ("delimiter", 'd'),
            ("fields", 'f'),
            ("characters", 'c'),
            ("bytes", 'b'),
            ("only-delimited", 's'),
            ("output-delimiter", '\u{1}'),
        ],
        permute: true,
    };
    let spec = Spec {
        with_arg: "dfcb\u{1}",
        ..spec
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let g = gnu(ctx);
    let (mode, list) = match (o.val('f'), o.val('c').or(o.val('b'))) {
        (Some(l), None) => ('f', l),
        (None, Some(l)) => ('c', l),
        _ => {
            ctx.err(if g {
                format!("{p}: you must specify a list of bytes, characters, or fields\nTry '{p} --help' for more information.\n")
            } else {
                format!("{p}: expected a list of bytes, characters, or fields\n")
            });
            return 1;
        }
    };
    let Some(ranges) = parse_list(list) else {
        ctx.err(if g {
            format!("{p}: invalid field value '{list}'\nTry '{p} --help' for more information.\n")
        } else {
            format!("{p}: invalid range '{list}'\n")
        });
        return 1;
    };
    let delim = match o.val('d') {
        Some(d) if d.chars().count() == 1 => d.chars().next().unwrap_or('\t'),
        Some(_) => {
            ctx.err(if g { format!("{p}: the delimiter must be a single character\nTry '{p} --help' for more information.\n") } else { format!("{p}: the delimiter must be a single character\n") });
            return 1;
        }
        None => '\t',
    };
    let odelim = o
        .val('\u{1}')
        .map(String::from)
        .unwrap_or_else(|| delim.to_string());
    let want = |i: usize| ranges.iter().any(|(a, b)| i >= *a && i <= *b);
    let (ins, status) = inputs(ctx, &p, &o.operands);
    let mut out = String::new();
    for (_, b) in ins {
        let text = String::from_utf8_lossy(&b).into_owned();
        for l in text.lines() {
            if mode == 'c' {
                let s: String = l
                    .chars()
                    .enumerate()
                    .filter(|(i, _)| want(i + 1))
                    .map(|(_, c)| c)
                    .collect();
                out.push_str(&s);
                out.push('\n');
            } else if !l.contains(delim) {
                if !o.has('s') {
                    out.push_str(l);
                    out.push('\n');
                }
            } else {
                let f: Vec<&str> = l
                    .split(delim)
                    .enumerate()
                    .filter(|(i, _)| want(i + 1))
                    .map(|(_, f)| f)
                    .collect();
                out.push_str(&f.join(&odelim));
                out.push('\n');
            }
        }
    }
    ctx.out(out);
    status
}

/// Expands a `tr` set: ranges, escapes, `[:class:]`.
fn tr_set(s: &str) -> Vec<char> {
    let mut v = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '['
            && chars.get(i + 1) == Some(&':')
            && let Some(end) = s[s.char_indices().nth(i).map(|x| x.0).unwrap_or(0)..].find(":]")
        {
            let start_b = s.char_indices().nth(i).map(|x| x.0).unwrap_or(0);
            let class = &s[start_b + 2..start_b + end];
            let set: Vec<char> = match class {
                "lower" => ('a'..='z').collect(),
                "upper" => ('A'..='Z').collect(),
                "digit" => ('0'..='9').collect(),
                "alpha" => ('A'..='Z').chain('a'..='z').collect(),
                "alnum" => ('0'..='9').chain('A'..='Z').chain('a'..='z').collect(),
                "space" => vec![' ', '\t', '\n', '\r', '\x0b', '\x0c'],
                "blank" => vec![' ', '\t'],
                "punct" => (33u8..127)
                    .map(char::from)
                    .filter(|c| c.is_ascii_punctuation())
                    .collect(),
                _ => Vec::new(),
            };
            v.extend(set);
            i += s[start_b..start_b + end + 2].chars().count();
            continue;
        }
        let c = if chars[i] == '\\' && i + 1 < chars.len() {
            i += 1;
            match chars[i] {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '\\' => '\\',
                c => c,
            }
        } else {
            chars[i]
        };
        if chars.get(i + 1) == Some(&'-') && i + 2 < chars.len() {
            let end = chars[i + 2];
            if end >= c {
                v.extend(c..=end);
            }
            i += 3;
            continue;
        }
        v.push(c);
        i += 1;
    }
    v
}

/// `tr [-d] [-s] [-c] SET1 [SET2]`
pub fn tr(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "dscC",
        with_arg: "",
        longs: &[
            ("delete", 'd'),
            ("squeeze-repeats", 's'),
            ("complement", 'c'),
        ],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    if o.operands.is_empty() || (!o.has('d') && !o.has('s') && o.operands.len() < 2) {
        if gnu(ctx) {
            let what = if o.operands.is_empty() {
                "missing operand".to_string()
            } else {
                format!(
                    "missing operand after '{}'\nTwo strings must be given when translating.",
                    o.operands[0]
                )
            };
            ctx.err(format!(
                "{p}: {what}\nTry '{p} --help' for more information.\n"
            ));
        } else {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return 1;
    }
    let s1 = tr_set(&o.operands[0]);
    let s2 = o.operands.get(1).map(|s| tr_set(s)).unwrap_or_default();
    let comp = o.has('c') || o.has('C');
    let in1 = |c: char| s1.contains(&c) != comp;
    let text = String::from_utf8_lossy(&ctx.stdin).into_owned();
    let mut out = String::new();
    let mut last: Option<char> = None;
    for c in text.chars() {
        let mapped = if o.has('d') {
            if in1(c) {
                continue;
            }
            Some(c)
        } else if !s2.is_empty() && in1(c) {
            if comp {
                s2.last().copied()
            } else {
                let i = s1.iter().position(|x| *x == c).unwrap_or(0);
                Some(*s2.get(i).or(s2.last()).unwrap_or(&c))
            }
        } else {
            Some(c)
        };
        let Some(m) = mapped else { continue };
        let squeeze_set = if o.has('d') || s2.is_empty() {
            &s1
        } else {
            &s2
        };
        if o.has('s') && last == Some(m) && squeeze_set.contains(&m) {
            continue;
        }
        last = Some(m);
        out.push(m);
    }
    ctx.out(out);
    0
}

/// `tee [-a] [FILE]...`
pub fn tee(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "ai",
        with_arg: "",
        longs: &[("append", 'a')],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let data = ctx.stdin.clone();
    let _ = ctx.stdout.write(&data);
    let mut status = 0;
    for f in &o.operands {
        let abs = ctx.path(f);
        let c = util::cred(ctx);
        let r = if ctx.fs.exists(&abs) {
            util::may_write(ctx, &abs)
        } else {
            util::may_create(ctx, &abs).map(|_| ())
        }
        .and_then(|_| {
            if o.has('a') {
                ctx.fs.append(&abs, &data, 0o644, c)
            } else {
                ctx.fs.write(&abs, Content::bytes(data.clone()), 0o644, c)
            }
        });
        if let Err(e) = r {
            ctx.err(if gnu(ctx) {
                format!("{p}: {f}: {e}\n")
            } else {
                format!("{p}: can't open '{f}': {e}\n")
            });
            status = 1;
        }
    }
    status
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn b64_encode(b: &[u8]) -> String {
    let mut s = String::new();
    for ch in b.chunks(3) {
        let n = (ch[0] as u32) << 16
            | (*ch.get(1).unwrap_or(&0) as u32) << 8
            | *ch.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= ch.len() {
                s.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

pub fn b64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for &c in s {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            break;
        }
        let v = B64.iter().position(|x| *x == c)? as u32;
        buf = buf << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `base64 [-d] [-w COLS] [FILE]`
pub fn base64(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let spec = Spec {
        flags: "di",
        with_arg: "w",
        longs: &[("decode", 'd'), ("wrap", 'w'), ("ignore-garbage", 'i')],
        permute: true,
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 1),
    };
    let (ins, status) = inputs(ctx, &p, &o.operands[..o.operands.len().min(1)]);
    if status != 0 {
        return 1;
    }
    let data = ins.into_iter().next().map(|x| x.1).unwrap_or_default();
    if o.has('d') {
        match b64_decode(&data) {
            Some(b) => {
                let _ = ctx.stdout.write(&b);
                0
            }
            None => {
                ctx.err(format!("{p}: invalid input\n"));
                1
            }
        }
    } else {
        let wrap: usize = o.val('w').and_then(|w| w.parse().ok()).unwrap_or(76);
        let enc = b64_encode(&data);
        let mut out = String::new();
        if wrap == 0 {
            out = enc;
            out.push('\n');
        } else {
            for ch in enc.as_bytes().chunks(wrap) {
                out.push_str(&String::from_utf8_lossy(ch));
                out.push('\n');
            }
        }
        ctx.out(out);
        0
    }
}

/// `basename NAME [SUFFIX]`
pub fn basename(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let args: Vec<&String> = argv[1..].iter().filter(|a| *a != "--").collect();
    let Some(name) = args.first() else {
        if gnu(ctx) {
            ctx.err(format!(
                "{p}: missing operand\nTry '{p} --help' for more information.\n"
            ));
        } else {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return 1;
    };
    let t = name.trim_end_matches('/');
    let mut b = if t.is_empty() && !name.is_empty() {
        "/".to_string()
    } else {
        t.rsplit('/').next().unwrap_or(t).to_string()
    };
    if let Some(sfx) = args.get(1)
        && b != **sfx
        && let Some(s) = b.strip_suffix(sfx.as_str())
    {
        b = s.to_string();
    }
    ctx.out(format!("{b}\n"));
    0
}

/// `dirname NAME...`
pub fn dirname(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let args: Vec<&String> = argv[1..].iter().filter(|a| *a != "--").collect();
    if args.is_empty() {
        if gnu(ctx) {
            ctx.err(format!(
                "{p}: missing operand\nTry '{p} --help' for more information.\n"
            ));
        } else {
            ctx.err(format!("{}\n", util::BANNER));
        }
        return 1;
    }
    let mut out = String::new();
    for name in args {
        let t = name.trim_end_matches('/');
        let d = match t.rfind('/') {
            None if name.starts_with('/') => "/".to_string(),
            None => ".".to_string(),
            Some(i) => {
                let d = t[..i].trim_end_matches('/');
                if d.is_empty() {
                    "/".to_string()
                } else {
                    d.to_string()
                }
            }
        };
        out.push_str(&d);
        out.push('\n');
    }
    ctx.out(out);
    0
}
