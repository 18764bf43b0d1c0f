//! `sed`: scripts of `s///` (flags `g p I N`, `&` and `\1`..`\9` in the
//! replacement), `d p q Q a i c y = n N !` and `{ }`, addressed by line
//! numbers, `$`, `/re/` and ranges; `-n -e -E -r -i[SUFFIX] -f`. Patterns
//! go through [`super::grep::translate`].

use super::util::{self, gnu, prog};
use crate::layer::Content;
use crate::userland::proc::Ctx;
use regex::Regex;

#[derive(Clone, Debug)]
enum Addr {
    Line(usize),
    Last,
    Re(Regex),
}

#[derive(Clone, Debug)]
enum Cmd {
    Subst {
        re: Regex,
        repl: String,
        global: bool,
        nth: usize,
        print: bool,
    },
    Delete,
    Print,
    Quit(bool),
    Append(String),
    Insert(String),
    Change(String),
    Translit(Vec<char>, Vec<char>),
    LineNo,
    Next,
    NextAppend,
    Block(Vec<Inst>),
    Nop,
}

#[derive(Clone, Debug)]
struct Inst {
    a1: Option<Addr>,
    a2: Option<Addr>,
    neg: bool,
    cmd: Cmd,
}

struct Parser<'a> {
    c: Vec<char>,
    i: usize,
    ere: bool,
    _p: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ') | Some('\t')) {
            self.i += 1;
        }
    }
    fn err(&self, msg: &str) -> String {
        format!("-e expression #1, char {}: {msg}", self.i)
    }
    /// Reads up to an unescaped `delim`; returns the raw text.
    fn delimited(&mut self, delim: char, what: &str) -> Result<String, String> {
        let mut s = String::new();
        let mut in_bracket = false;
        loop {
            let Some(ch) = self.peek() else {
                return Err(self.err(&format!("unterminated `{what}' command")));
            };
            self.i += 1;
            if ch == '\\' {
                let Some(n) = self.peek() else {
                    return Err(self.err(&format!("unterminated `{what}' command")));
                };
                self.i += 1;
                if n == delim {
                    s.push(n);
                } else if n == 'n' && !in_bracket {
                    s.push('\n');
                } else {
                    s.push('\\');
                    s.push(n);
                }
                continue;
            }
            if ch == '[' && !in_bracket && what != "y" {
                in_bracket = true;
            } else if ch == ']' && in_bracket {
                in_bracket = false;
            } else if ch == delim && !in_bracket {
                return Ok(s);
            } else if ch == '\n' && what != "s" {
                return Err(self.err(&format!("unterminated `{what}' command")));
            }
            s.push(ch);
        }
    }
    fn regex(&mut self, raw: &str, icase: bool) -> Result<Regex, String> {
        super::grep::compile(raw, self.ere, icase).map_err(|e| self.err(&e))
    }
    fn addr(&mut self) -> Result<Option<Addr>, String> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                let mut n = 0usize;
                while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                    n = n.saturating_mul(10).saturating_add(d as usize);
                    self.i += 1;
                }
                if n == 0 {
                    return Err(self.err("invalid usage of line address 0"));
                }
                Ok(Some(Addr::Line(n)))
            }
            Some('$') => {
                self.i += 1;
                Ok(Some(Addr::Last))
            }
            Some('/') | Some('\\') => {
                let delim = if self.peek() == Some('\\') {
                    self.i += 1;
                    self.peek().ok_or_else(|| self.err("unexpected `,'"))?
                } else {
                    '/'
                };
                self.i += 1;
                let raw = self.delimited(delim, "address regex")?;
                let icase = self.peek() == Some('I');
                if icase {
                    self.i += 1;
                }
                Ok(Some(Addr::Re(self.regex(&raw, icase)?)))
            }
            _ => Ok(None),
        }
    }
    /// Text for `a`, `i`, `c`: `a\` newline text, or GNU's one-liner.
    fn text(&mut self) -> String {
        self.skip_ws();
        if self.peek() == Some('\\') {
            self.i += 1;
            if self.peek() == Some('\n') {
                self.i += 1;
            }
        }
        let mut s = String::new();
        while let Some(ch) = self.peek() {
            self.i += 1;
            if ch == '\\' {
                match self.peek() {
                    Some('\n') => {
                        s.push('\n');
                        self.i += 1;
                    }
                    Some(n) => {
                        s.push(if n == 't' { '\t' } else { n });
                        self.i += 1;
                    }
                    None => {}
                }
                continue;
            }
            if ch == '\n' {
                break;
            }
            s.push(ch);
        }
        s
    }
    fn script(&mut self, nested: bool) -> Result<Vec<Inst>, String> {
        let mut v = Vec::new();
        loop {
            while matches!(self.peek(), Some(' ') | Some('\t') | Some('\n') | Some(';')) {
                self.i += 1;
            }
            let Some(_) = self.peek() else {
                if nested {
                    return Err(self.err("unmatched `{'"));
                }
                return Ok(v);
            };
            if self.peek() == Some('}') {
                if !nested {
                    return Err(self.err("unexpected `}'"));
                }
                self.i += 1;
                return Ok(v);
            }
            if self.peek() == Some('#') {
                while !matches!(self.peek(), None | Some('\n')) {
                    self.i += 1;
                }
                continue;
            }
            let a1 = self.addr()?;
            let mut a2 = None;
            if a1.is_some() && self.peek() == Some(',') {
                self.i += 1;
                a2 = self.addr()?;
                if a2.is_none() {
                    return Err(self.err("unexpected `,'"));
                }
            }
            self.skip_ws();
            let mut neg = false;
            while self.peek() == Some('!') {
                neg = true;
                self.i += 1;
                self.skip_ws();
            }
            let Some(c) = self.peek() else {
                return Err(self.err("missing command"));
            };
            self.i += 1;
            let cmd = match c {
                's' => {
                    let delim = self
                        .peek()
                        .ok_or_else(|| self.err("unterminated `s' command"))?;
                    self.i += 1;
                    let pat = self.delimited(delim, "s")?;
                    let repl = self.delimited(delim, "s")?;
                    let (mut global, mut nth, mut print, mut icase) = (false, 1, false, false);
                    while let Some(f) = self.peek() {
                        match f {
                            'g' => global = true,
                            'p' => print = true,
                            'I' | 'i' => icase = true,
                            d if d.is_ascii_digit() => {
                                let mut n = 0usize;
                                while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                                    n = n.saturating_mul(10).saturating_add(d as usize);
                                    self.i += 1;
                                }
                                if n == 0 {
                                    return Err(
                                        self.err("number option to `s' command may not be zero")
                                    );
                                }
                                nth = n;
                                continue;
                            }
                            ';' | '\n' | '}' | ' ' | '\t' => break,
                            _ => return Err(self.err("unknown option to `s'")),
                        }
                        self.i += 1;
                    }
                    let re = if pat.is_empty() {
                        return Err(self.err("no previous regular expression"));
                    } else {
                        self.regex(&pat, icase)?
                    };
                    Cmd::Subst {
                        re,
                        repl,
                        global,
                        nth,
                        print,
                    }
                }
                'y' => {
                    let delim = self
                        .peek()
                        .ok_or_else(|| self.err("unterminated `y' command"))?;
                    self.i += 1;
                    let a: Vec<char> = self.delimited(delim, "y")?.chars().collect();
                    let b: Vec<char> = self.delimited(delim, "y")?.chars().collect();
                    if a.len() != b.len() {
                        return Err(self.err("strings for `y' command are different lengths"));
                    }
                    Cmd::Translit(a, b)
                }
                'd' => Cmd::Delete,
                'p' => Cmd::Print,
                'q' => Cmd::Quit(true),
                'Q' => Cmd::Quit(false),
                '=' => Cmd::LineNo,
                'n' => Cmd::Next,
                'N' => Cmd::NextAppend,
                'a' => Cmd::Append(self.text()),
                'i' => Cmd::Insert(self.text()),
                'c' => Cmd::Change(self.text()),
                '{' => Cmd::Block(self.script(true)?),
                ':' | 'b' | 't' | 'l' | 'h' | 'H' | 'g' | 'G' | 'x' | 'w' | 'r' | 'D' | 'P'
                | 'z' | 'e' | 'F' => {
                    // Not simulated: consume the argument and do nothing.
                    while !matches!(self.peek(), None | Some('\n') | Some(';')) {
                        self.i += 1;
                    }
                    Cmd::Nop
                }
                other => return Err(self.err(&format!("unknown command: `{other}'"))),
            };
            v.push(Inst { a1, a2, neg, cmd });
        }
    }
}

/// Expands a replacement for one match.
fn expand(repl: &str, caps: &regex::Captures) -> String {
    let mut s = String::new();
    let mut it = repl.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '&' => s.push_str(caps.get(0).map(|m| m.as_str()).unwrap_or("")),
            '\\' => match it.next() {
                Some(d) if d.is_ascii_digit() => {
                    let n = d.to_digit(10).unwrap_or(0) as usize;
                    s.push_str(caps.get(n).map(|m| m.as_str()).unwrap_or(""));
                }
                Some('n') => s.push('\n'),
                Some('t') => s.push('\t'),
                Some(x) => s.push(x),
                None => s.push('\\'),
            },
            _ => s.push(c),
        }
    }
    s
}

struct State {
    lines: Vec<String>,
    idx: usize,
    out: String,
    quiet: bool,
    quit: Option<bool>,
    /// Range activity per instruction id.
    active: Vec<bool>,
    append: String,
}

fn matches(a: &Addr, line: &str, n: usize, last: bool) -> bool {
    match a {
        Addr::Line(k) => *k == n,
        Addr::Last => last,
        Addr::Re(r) => r.is_match(line),
    }
}

/// Runs instructions on the pattern space; returns false when the cycle
/// ends early (`d`).
fn run(insts: &[Inst], ps: &mut String, st: &mut State, ids: &mut usize) -> bool {
    for inst in insts {
        let id = *ids;
        *ids += 1;
        let n = st.idx;
        let last = st.idx == st.lines.len();
        let mut sel = match (&inst.a1, &inst.a2) {
            (None, _) => true,
            (Some(a), None) => matches(a, ps, n, last),
            (Some(a), Some(b)) => {
                if st.active[id] {
                    let end = match b {
                        Addr::Line(k) => n >= *k,
                        _ => matches(b, ps, n, last),
                    };
                    if end {
                        st.active[id] = false;
                    }
                    true
                } else if matches(a, ps, n, last) {
                    let ends_now = matches!(b, Addr::Line(k) if *k <= n);
                    st.active[id] = !ends_now;
                    true
                } else {
                    false
                }
            }
        };
        if inst.neg {
            sel = !sel;
        }
        if let Cmd::Block(inner) = &inst.cmd {
            if sel {
                if !run(inner, ps, st, ids) {
                    return false;
                }
            } else {
                *ids += count(inner);
            }
            continue;
        }
        if !sel {
            continue;
        }
        match &inst.cmd {
            Cmd::Subst {
                re,
                repl,
                global,
                nth,
                print,
            } => {
                let mut out = String::new();
                let mut last_end = 0;
                let mut k = 0;
                let mut did = false;
                for caps in re.captures_iter(ps) {
                    let Some(m) = caps.get(0) else { continue };
                    k += 1;
                    if k < *nth || (did && !*global) {
                        continue;
                    }
                    out.push_str(&ps[last_end..m.start()]);
                    out.push_str(&expand(repl, &caps));
                    last_end = m.end();
                    did = true;
                }
                if did {
                    out.push_str(&ps[last_end..]);
                    *ps = out;
                    if *print {
                        st.out.push_str(ps);
                        st.out.push('\n');
                    }
                }
            }
            Cmd::Delete => return false,
            Cmd::Print => {
                st.out.push_str(ps);
                st.out.push('\n');
            }
            Cmd::Quit(print) => {
                st.quit = Some(*print);
                return *print;
            }
            Cmd::Append(t) => {
                st.append.push_str(t);
                st.append.push('\n');
            }
            Cmd::Insert(t) => {
                st.out.push_str(t);
                st.out.push('\n');
            }
            Cmd::Change(t) => {
                let in_range = inst.a2.is_some() && st.active[id];
                if !in_range {
                    st.out.push_str(t);
                    st.out.push('\n');
                }
                return false;
            }
            Cmd::Translit(a, b) => {
                *ps = ps
                    .chars()
                    .map(|c| a.iter().position(|x| *x == c).map(|i| b[i]).unwrap_or(c))
                    .collect();
            }
            Cmd::LineNo => st.out.push_str(&format!("{n}\n")),
            Cmd::Next => {
                if st.idx < st.lines.len() {
                    if !st.quiet {
                        st.out.push_str(ps);
                        st.out.push('\n');
                    }
                    st.out.push_str(&std::mem::take(&mut st.append));
                    *ps = st.lines[st.idx].clone();
                    st.idx += 1;
                } else {
                    st.quit = Some(true);
                    return true;
                }
            }
            Cmd::NextAppend => {
                if st.idx < st.lines.len() {
                    ps.push('\n');
                    ps.push_str(&st.lines[st.idx]);
                    st.idx += 1;
                } else {
                    // GNU prints the pattern space when N hits the end.
                    st.quit = Some(true);
                    return true;
                }
            }
            Cmd::Block(_) | Cmd::Nop => {}
        }
    }
    true
}

fn count(insts: &[Inst]) -> usize {
    insts
        .iter()
        .map(|i| {
            1 + if let Cmd::Block(b) = &i.cmd {
                count(b)
            } else {
                0
            }
        })
        .sum()
}

fn process(insts: &[Inst], text: &str, quiet: bool, ctx: &Ctx) -> (String, bool) {
    let lines: Vec<String> = text.lines().map(String::from).collect();
    let trailing_nl = text.ends_with('\n') || text.is_empty();
    let mut st = State {
        lines,
        idx: 0,
        out: String::new(),
        quiet,
        quit: None,
        active: vec![false; count(insts)],
        append: String::new(),
    };
    while st.idx < st.lines.len() {
        if ctx.step().is_err() {
            break;
        }
        let mut ps = st.lines[st.idx].clone();
        st.idx += 1;
        let mut ids = 0;
        let keep = run(insts, &mut ps, &mut st, &mut ids);
        if keep && !quiet {
            st.out.push_str(&ps);
            st.out.push('\n');
        }
        st.out.push_str(&std::mem::take(&mut st.append));
        if st.quit.is_some() {
            break;
        }
    }
    if !trailing_nl && st.out.ends_with('\n') && st.quit.is_none() {
        st.out.pop();
    }
    (st.out, true)
}

/// `sed [-n] [-E|-r] [-i[SUF]] [-e SCRIPT]... [-f FILE] [SCRIPT] [FILE]...`
pub fn sed(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let g = gnu(ctx);
    let mut quiet = false;
    let mut ere = false;
    let mut in_place: Option<String> = None;
    let mut scripts: Vec<String> = Vec::new();
    let mut ops = Vec::new();
    let mut i = 1;
    let mut ended = false;
    while i < argv.len() {
        let a = argv[i].clone();
        i += 1;
        if ended || !a.starts_with('-') || a == "-" {
            ops.push(a);
            continue;
        }
        match a.as_str() {
            "--" => ended = true,
            "-n" | "--quiet" | "--silent" => quiet = true,
            "-E" | "-r" | "--regexp-extended" => ere = true,
            "--posix" | "-u" | "--unbuffered" | "-s" | "--separate" | "--debug" | "-z" => {}
            "-e" | "--expression" | "-f" | "--file" => {
                let Some(v) = argv.get(i).cloned() else {
                    return util::opt_error(
                        ctx,
                        &p,
                        &util::OptError::Missing(a.chars().nth(1).unwrap_or('e')),
                        1,
                    );
                };
                i += 1;
                if a == "-f" || a == "--file" {
                    match util::read_input(ctx, &v) {
                        Ok(b) => scripts.push(String::from_utf8_lossy(&b).into_owned()),
                        Err(e) => {
                            ctx.err(format!("{p}: couldn't open file {v}: {e}\n"));
                            return 1;
                        }
                    }
                } else {
                    scripts.push(v);
                }
            }
            s if s.starts_with("-i") || s.starts_with("--in-place") => {
                let suf = s
                    .trim_start_matches("--in-place")
                    .trim_start_matches("-i")
                    .trim_start_matches('=');
                in_place = Some(suf.to_string());
            }
            s if s.starts_with("-e") => scripts.push(s[2..].to_string()),
            s if s.starts_with("-n") || s.starts_with("-E") || s.starts_with("-r") => {
                // Bundled flags such as -nE, -ne 'script'.
                for c in s[1..].chars() {
                    match c {
                        'n' => quiet = true,
                        'E' | 'r' => ere = true,
                        'i' => in_place = Some(String::new()),
                        'e' => {
                            if let Some(v) = argv.get(i).cloned() {
                                i += 1;
                                scripts.push(v);
                            }
                        }
                        _ => return util::opt_error(ctx, &p, &util::OptError::Unknown(c), 1),
                    }
                }
            }
            s => {
                let c = s.chars().nth(1).unwrap_or('-');
                return util::opt_error(ctx, &p, &util::OptError::Unknown(c), 1);
            }
        }
    }
    if scripts.is_empty() {
        if ops.is_empty() {
            if g {
                ctx.err(format!(
                    "Usage: {p} [OPTION]... {{script-only-if-no-other-script}} [input-file]...\n"
                ));
            } else {
                ctx.err(format!("{}\n", util::BANNER));
            }
            return 1;
        }
        scripts.push(ops.remove(0));
    }
    let script = scripts.join("\n");
    let mut parser = Parser {
        c: script.chars().collect(),
        i: 0,
        ere,
        _p: &p,
    };
    let insts = match parser.script(false) {
        Ok(v) => v,
        Err(e) => {
            if g {
                ctx.err(format!("{p}: {e}\n"));
            } else {
                let msg = e.rsplit(": ").next().unwrap_or(&e).to_string();
                ctx.err(format!("{p}: {msg}\n"));
            }
            return 1;
        }
    };
    if let Some(suf) = in_place {
        if ops.is_empty() {
            ctx.err(if g {
                format!("{p}: no input files\n")
            } else {
                format!("{}\n", util::BANNER)
            });
            return 1;
        }
        let mut status = 0;
        for f in &ops {
            let abs = ctx.path(f);
            let data = match util::read_input(ctx, f) {
                Ok(b) => b,
                Err(e) => {
                    ctx.err(if g {
                        format!("{p}: can't read {f}: {e}\n")
                    } else {
                        format!("{p}: can't open '{f}': {e}\n")
                    });
                    status = if g { 2 } else { 1 };
                    continue;
                }
            };
            let (out, _) = process(&insts, &String::from_utf8_lossy(&data), quiet, ctx);
            if let Err(e) = util::may_create(ctx, &abs) {
                ctx.err(if g {
                    format!(
                        "{p}: couldn't open temporary file {}/sed{}: {e}\n",
                        abs.rsplit_once('/').map(|x| x.0).unwrap_or(""),
                        "XXXXXX"
                    )
                } else {
                    format!("{p}: can't create temp file for '{f}': {e}\n")
                });
                status = 4;
                continue;
            }
            let c = util::cred(ctx);
            if !suf.is_empty() {
                let bak = if suf.contains('*') {
                    suf.replace('*', f)
                } else {
                    format!("{f}{suf}")
                };
                let babs = ctx.path(&bak);
                let _ = ctx.fs.write(&babs, Content::bytes(data.clone()), 0o644, c);
            }
            let _ = ctx
                .fs
                .write(&abs, Content::bytes(out.into_bytes()), 0o644, c);
        }
        return status;
    }
    let names = if ops.is_empty() {
        vec!["-".to_string()]
    } else {
        ops
    };
    let mut all = String::new();
    let mut status = 0;
    for f in &names {
        match util::read_input(ctx, f) {
            Ok(b) => {
                let t = String::from_utf8_lossy(&b);
                all.push_str(&t);
                if !t.is_empty() && !t.ends_with('\n') && f != names.last().unwrap_or(f) {
                    all.push('\n');
                }
            }
            Err(e) => {
                ctx.err(if g {
                    format!("{p}: can't read {f}: {e}\n")
                } else {
                    format!("{p}: can't open '{f}': {e}\n")
                });
                status = 2;
            }
        }
    }
    let (out, _) = process(&insts, &all, quiet, ctx);
    ctx.out(out);
    status
}
