//! `grep`/`egrep`/`fgrep`, and the POSIX-to-`regex`-crate translation
//! `sed` shares ([`translate`]): basic (BRE) or extended (ERE) patterns
//! become the crate's syntax; back-references are refused as unsupported.

use super::util::{self, Spec, gnu, prog};
use crate::userland::fs::{Errno, FileType, join};
use crate::userland::proc::Ctx;
use regex::Regex;

/// Translates a POSIX BRE (`ere` false) or ERE pattern to the `regex`
/// crate's syntax. Fails on what the crate cannot do (back-references) or
/// on malformed brackets.
pub fn translate(pat: &str, ere: bool) -> Result<String, String> {
    let c: Vec<char> = pat.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    // Whether the last thing emitted can take a repetition.
    let mut can_repeat = false;
    while i < c.len() {
        let ch = c[i];
        match ch {
            '\\' => {
                i += 1;
                let Some(&n) = c.get(i) else {
                    return Err("Trailing backslash".into());
                };
                let bre_special = !ere && matches!(n, '(' | ')' | '{' | '}' | '|' | '+' | '?');
                if bre_special {
                    out.push(n);
                    can_repeat = n == ')' || n == '}';
                } else {
                    match n {
                        '1'..='9' => return Err("back-references are not supported".into()),
                        '<' | '>' => {
                            out.push_str("\\b");
                            can_repeat = false;
                        }
                        'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                            out.push('\\');
                            out.push(n);
                            can_repeat = true;
                        }
                        'n' => {
                            out.push_str("\\n");
                            can_repeat = true;
                        }
                        't' => {
                            out.push_str("\\t");
                            can_repeat = true;
                        }
                        _ => {
                            out.push_str(&regex::escape(&n.to_string()));
                            can_repeat = true;
                        }
                    }
                }
            }
            '[' => {
                // Copy a bracket expression, escaping what the crate would
                // read specially.
                let mut j = i + 1;
                let mut cls = String::from("[");
                if c.get(j) == Some(&'^') {
                    cls.push('^');
                    j += 1;
                }
                if c.get(j) == Some(&']') {
                    cls.push_str("\\]");
                    j += 1;
                }
                let mut closed = false;
                while j < c.len() {
                    let x = c[j];
                    if x == ']' {
                        closed = true;
                        break;
                    }
                    if x == '[' && matches!(c.get(j + 1), Some(':') | Some('.') | Some('=')) {
                        let kind = c[j + 1];
                        let mut k = j + 2;
                        while k + 1 < c.len() && !(c[k] == kind && c[k + 1] == ']') {
                            k += 1;
                        }
                        if k + 1 >= c.len() {
                            return Err("Unmatched [, [^, [:, [., or [=".into());
                        }
                        let name: String = c[j + 2..k].iter().collect();
                        if kind == ':' {
                            const CLASSES: [&str; 12] = [
                                "alpha", "digit", "alnum", "upper", "lower", "space", "blank",
                                "punct", "print", "graph", "cntrl", "xdigit",
                            ];
                            if !CLASSES.contains(&name.as_str()) {
                                return Err("Invalid character class name".into());
                            }
                            cls.push_str(&format!("[:{name}:]"));
                        } else {
                            cls.push_str(&regex::escape(&name));
                        }
                        j = k + 2;
                        continue;
                    }
                    match x {
                        '\\' | '[' | '&' | '~' => {
                            cls.push('\\');
                            cls.push(x);
                        }
                        '-' if c.get(j + 1) == Some(&'-') => cls.push_str("\\-"),
                        _ => cls.push(x),
                    }
                    j += 1;
                }
                if !closed {
                    return Err("Unmatched [, [^, [:, [., or [=".into());
                }
                cls.push(']');
                out.push_str(&cls);
                i = j;
                can_repeat = true;
            }
            '*' => {
                if can_repeat {
                    out.push('*');
                } else {
                    out.push_str("\\*");
                    can_repeat = true;
                }
            }
            '+' | '?' if ere && can_repeat => {
                out.push(ch);
            }
            '{' if ere => {
                // A valid interval, else a literal brace.
                let rest: String = c[i..].iter().collect();
                let end = rest.find('}');
                let valid = can_repeat
                    && end.is_some_and(|e| {
                        let inner = &rest[1..e];
                        !inner.is_empty()
                            && inner.chars().all(|x| x.is_ascii_digit() || x == ',')
                            && inner.chars().next().is_some_and(|x| x.is_ascii_digit())
                    });
                if valid {
                    let e = end.unwrap_or(0);
                    out.push_str(&rest[..=e]);
                    i += rest[..=e].chars().count();
                    can_repeat = true;
                    continue;
                }
                out.push_str("\\{");
                can_repeat = true;
            }
            '(' | ')' | '|' if ere => {
                if ch == '(' && c.get(i + 1) == Some(&')') {
                    out.push_str("()");
                    i += 2;
                    can_repeat = true;
                    continue;
                }
                out.push(ch);
                can_repeat = ch == ')';
            }
            '^' => {
                if !(ere || out.is_empty() || out.ends_with('(') || out.ends_with('|')) {
                    out.push_str("\\^");
                    can_repeat = true;
                } else {
                    out.push('^');
                    can_repeat = false;
                }
            }
            '$' => {
                let at_end = i + 1 == c.len()
                    || (!ere
                        && c.get(i + 1) == Some(&'\\')
                        && matches!(c.get(i + 2), Some(')') | Some('|')));
                if ere || at_end {
                    out.push('$');
                    can_repeat = false;
                } else {
                    out.push_str("\\$");
                    can_repeat = true;
                }
            }
            '.' => {
                out.push('.');
                can_repeat = true;
            }
            _ => {
                out.push_str(&regex::escape(&ch.to_string()));
                can_repeat = true;
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Compiles a POSIX pattern (multi-line mode so `^`/`$` match at line ends
/// of a multi-line pattern space is not wanted: single line).
pub fn compile(pat: &str, ere: bool, icase: bool) -> Result<Regex, String> {
    let t = translate(pat, ere)?;
    let t = if icase { format!("(?i){t}") } else { t };
    Regex::new(&t).map_err(|e| e.to_string())
}

struct GrepOpts {
    invert: bool,
    quiet: bool,
    count: bool,
    list: bool,
    list_missing: bool,
    number: bool,
    only: bool,
    names: bool,
    silent: bool,
}

/// `grep [-EFiIvqrRnclLwxohHs] [-e PAT]... [PAT] [FILE]...`
pub fn grep(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let g = gnu(ctx);
    let spec = Spec {
        flags: "EFGiIvqrRnclLwxohHsaz",
        with_arg: "efmABC",
        longs: &[
            ("extended-regexp", 'E'),
            ("fixed-strings", 'F'),
            ("ignore-case", 'i'),
            ("invert-match", 'v'),
            ("quiet", 'q'),
            ("silent", 'q'),
            ("recursive", 'r'),
            ("dereference-recursive", 'R'),
            ("line-number", 'n'),
            ("count", 'c'),
            ("files-with-matches", 'l'),
            ("files-without-match", 'L'),
            ("word-regexp", 'w'),
            ("line-regexp", 'x'),
            ("only-matching", 'o'),
            ("no-filename", 'h'),
            ("with-filename", 'H'),
            ("no-messages", 's'),
            ("regexp", 'e'),
            ("file", 'f'),
            ("max-count", 'm'),
            ("color", '\u{1}'),
            ("include", '\u{2}'),
            ("exclude", '\u{3}'),
        ],
        permute: true,
    };
    let spec = Spec {
        with_arg: "efmABC\u{2}\u{3}",
        ..spec
    };
    let o = match spec.parse(&argv[1..]) {
        Ok(o) => o,
        Err(e) => return util::opt_error(ctx, &p, &e, 2),
    };
    if g && (p == "egrep" || p == "fgrep") {
        let flag = if p == "egrep" { "-E" } else { "-F" };
        ctx.err(format!(
            "{p}: warning: {p} is obsolescent; using grep {flag}\n"
        ));
    }
    let ere = o.has('E') || p == "egrep";
    let fixed = o.has('F') || p == "fgrep";
    let mut ops = o.operands.clone();
    let mut pats: Vec<String> = o.vals('e').iter().map(|s| s.to_string()).collect();
    for f in o.vals('f') {
        match util::read_input(ctx, f) {
            Ok(b) => pats.extend(String::from_utf8_lossy(&b).lines().map(String::from)),
            Err(e) => {
                ctx.err(format!("{p}: {f}: {e}\n"));
                return 2;
            }
        }
    }
    if pats.is_empty() {
        if ops.is_empty() {
            if g {
                ctx.err(format!("Usage: {p} [OPTION]... PATTERNS [FILE]...\nTry '{p} --help' for more information.\n"));
            } else {
                ctx.err(format!("{}\n", util::BANNER));
            }
            return 2;
        }
        pats.extend(ops.remove(0).split('\n').map(String::from));
    }
    let mut parts = Vec::new();
    for pat in &pats {
        let t = if fixed {
            regex::escape(pat)
        } else {
            match translate(pat, ere) {
                Ok(t) => t,
                Err(e) => {
                    ctx.err(if g {
                        format!("{p}: {e}\n")
                    } else {
                        format!("{p}: bad regex '{pat}': {e}\n")
                    });
                    return 2;
                }
            }
        };
        let t = if o.has('x') {
            format!("^(?:{t})$")
        } else if o.has('w') {
            format!("(?:^|\\b)(?:{t})(?:\\b|$)")
        } else {
            format!("(?:{t})")
        };
        parts.push(t);
    }
    let mut src = parts.join("|");
    if o.has('i') {
        src = format!("(?i){src}");
    }
    let re = match Regex::new(&src) {
        Ok(r) => r,
        Err(_) => {
            ctx.err(if g {
                format!("{p}: Invalid regular expression\n")
            } else {
                format!("{p}: bad regex '{}'\n", pats.join("\n"))
            });
            return 2;
        }
    };
    let rec = o.has('r') || o.has('R');
    if ops.is_empty() {
        ops.push(if rec { ".".into() } else { "-".into() });
    }
    // Expand directories for -r.
    let mut files: Vec<String> = Vec::new();
    let mut status_err = false;
    for f in &ops {
        if f == "-" {
            files.push(f.clone());
            continue;
        }
        let abs = ctx.path(f);
        match ctx.fs.stat(&abs, true) {
            Ok(st) if st.kind == FileType::Dir => {
                if rec {
                    let base = ctx.fs.resolve(&abs, true).unwrap_or_default();
                    for k in ctx.fs.walk(&abs).unwrap_or_default() {
                        if ctx.fs.entry(&k).is_some_and(|e| {
                            matches!(
                                e.kind,
                                crate::layer::Kind::File(_) | crate::layer::Kind::Hardlink(_)
                            )
                        }) {
                            let rel = if base.is_empty() {
                                k.clone()
                            } else {
                                k[base.len() + 1..].to_string()
                            };
                            let shown = if f == "." && g {
                                rel
                            } else {
                                format!("{}/{rel}", f.trim_end_matches('/'))
                            };
                            files.push(shown);
                        }
                    }
                } else {
                    if !o.has('s') {
                        ctx.err(format!("{p}: {f}: Is a directory\n"));
                    }
                    status_err = true;
                }
            }
            Ok(_) => files.push(f.clone()),
            Err(e) => {
                if !o.has('s') {
                    ctx.err(format!("{p}: {f}: {e}\n"));
                }
                status_err = true;
            }
        }
    }
    let go = GrepOpts {
        invert: o.has('v'),
        quiet: o.has('q'),
        count: o.has('c'),
        list: o.has('l'),
        list_missing: o.has('L'),
        number: o.has('n'),
        only: o.has('o'),
        names: !o.has('h') && (o.has('H') || files.len() > 1 || rec),
        silent: o.has('s'),
    };
    let max: Option<usize> = o.val('m').and_then(|m| m.parse().ok());
    let mut matched_any = false;
    let mut out = String::new();
    for f in &files {
        if ctx.step().is_err() {
            return 2;
        }
        let data = match util::read_input(ctx, f) {
            Ok(b) => b,
            Err(e) => {
                if !go.silent {
                    ctx.err(format!("{p}: {f}: {e}\n"));
                }
                status_err = true;
                continue;
            }
        };
        let text = String::from_utf8_lossy(&data);
        let shown = if f == "-" {
            "(standard input)".to_string()
        } else {
            f.clone()
        };
        let mut n = 0usize;
        for (ln, line) in text.lines().enumerate() {
            if max.is_some_and(|m| n >= m) {
                break;
            }
            let hit = re.is_match(line) != go.invert;
            if !hit {
                continue;
            }
            n += 1;
            if go.quiet || go.count || go.list || go.list_missing {
                continue;
            }
            let prefix = format!(
                "{}{}",
                if go.names {
                    format!("{shown}:")
                } else {
                    String::new()
                },
                if go.number {
                    format!("{}:", ln + 1)
                } else {
                    String::new()
                }
            );
            if go.only && !go.invert {
                for m in re.find_iter(line) {
                    if !m.as_str().is_empty() {
                        out.push_str(&format!("{prefix}{}\n", m.as_str()));
                    }
                }
            } else {
                out.push_str(&format!("{prefix}{line}\n"));
            }
        }
        if n > 0 {
            matched_any = true;
        }
        if go.quiet && matched_any {
            ctx.out(out);
            return 0;
        }
        if go.count {
            if go.names {
                out.push_str(&format!("{shown}:{n}\n"));
            } else {
                out.push_str(&format!("{n}\n"));
            }
        }
        if go.list && n > 0 {
            out.push_str(&format!("{shown}\n"));
        }
        if go.list_missing && n == 0 {
            out.push_str(&format!("{shown}\n"));
        }
    }
    ctx.out(out);
    if status_err && !(go.quiet && matched_any) {
        return 2;
    }
    if matched_any { 0 } else { 1 }
}

/// Reports a file-system error for `grep`-style tools.
pub fn fs_error(ctx: &Ctx, p: &str, f: &str, e: Errno) {
    ctx.err(format!("{p}: {f}: {e}\n"));
}

/// Joins a directory and a name (for recursive walkers).
pub fn child(dir: &str, name: &str) -> String {
    join(dir, name)
}
