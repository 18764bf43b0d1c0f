//! The two parsing stages of BuildKit's Dockerfile frontend: the line
//! parser (directives, comments, continuations, heredoc bodies, argument
//! splitting per instruction) and the instruction parser (flags, argument
//! counts, typed [`Kind`]s), both reproducing BuildKit's error texts.

use std::collections::HashMap;

use super::expand::Lexer;
use super::{
    CopyArgs, Diagnostic, Dockerfile, Healthcheck, Heredoc, Instruction, Kind, Origin, Severity,
    ShellOrExec, go_quote,
};

/// All instruction names, for "did you mean" suggestions.
const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parser-directive state (`# syntax=`, `# escape=`, `# check=`).
struct Directives {
    escape: char,
    done: bool,
    seen: Vec<String>,
    syntax: Option<String>,
    check: Option<String>,
}

impl Directives {
    /// Looks at one (left-trimmed) line while directives are still allowed.
    fn possible_directive(&mut self, line: &str) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        let Some((key, value)) = match_directive(line) else {
            self.done = true;
            return Ok(());
        };
        let k = key.to_ascii_lowercase();
        if !matches!(k.as_str(), "escape" | "syntax" | "check") {
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&k) {
            return Err(format!("only one {k} parser directive can be used"));
        }
        self.seen.push(k.clone());
        match k.as_str() {
            "escape" => {
                if value != "`" && value != "\\" {
                    return Err(format!(
                        "invalid escape token '{value}' does not match ` or \\"
                    ));
                }
                self.escape = value.chars().next().unwrap_or('\\');
            }
            "syntax" => self.syntax = Some(value.to_string()),
            _ => self.check = Some(value.to_string()),
        }
        Ok(())
    }
}

/// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` (RE2 `\s` = ASCII space).
fn match_directive(line: &str) -> Option<(&str, &str)> {
    let is_s = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r');
    let rest = line.strip_prefix('#')?;
    let rest = rest.trim_start_matches(is_s);
    let key_len = rest
        .char_indices()
        .find(|&(i, c)| {
            if i == 0 {
                !c.is_ascii_alphabetic()
            } else {
                !c.is_ascii_alphanumeric()
            }
        })
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    if key_len == 0 {
        return None;
    }
    let (key, rest) = rest.split_at(key_len);
    let rest = rest.trim_start_matches(is_s).strip_prefix('=')?;
    let value = rest.trim_matches(is_s);
    if value.is_empty() {
        return None;
    }
    Some((key, value))
}

fn is_go_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{85}' || c == '\u{a0}'
}

fn trim_newline(s: &str) -> &str {
    s.trim_end_matches(['\r', '\n'])
}

fn is_comment(raw: &str) -> bool {
    trim_newline(raw)
        .trim_start_matches(is_go_space)
        .starts_with('#')
}

/// Removes a trailing line-continuation escape: the escape character
/// followed only by spaces/tabs, not itself escaped. Returns the line and
/// whether it ended the instruction (no continuation).
fn trim_continuation(line: &str, escape: char) -> (String, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    if let Some(before) = t.strip_suffix(escape) {
        match before.chars().last() {
            None => return (String::new(), false),
            Some(c) if c != escape => return (before.to_string(), false),
            _ => {}
        }
    }
    (line.to_string(), true)
}

/// One logical line of the Dockerfile after the line parser.
#[derive(Debug, Clone, Default)]
struct Node {
    /// The keyword as written.
    cmd: String,
    flags: Vec<String>,
    args: Vec<String>,
    json: bool,
    /// The logical line (leading whitespace removed).
    original: String,
    /// The argument text after the flags, trimmed.
    rest: String,
    /// ONBUILD's trigger.
    child: Option<Box<Node>>,
    heredocs: Vec<Heredoc>,
}

/// Parses a Dockerfile. Never fails and never panics: problems are
/// reported in [`Dockerfile::diagnostics`].
pub fn parse(text: &str) -> Dockerfile {
    let mut df = Dockerfile {
        escape: '\\',
        syntax: None,
        check: None,
        instructions: Vec::new(),
        diagnostics: Vec::new(),
        empty: text.is_empty(),
    };
    if text.is_empty() {
        df.diagnostics.push(Diagnostic {
            line: 1,
            end_line: 1,
            severity: Severity::Error,
            message: "the Dockerfile cannot be empty".into(),
            origin: Origin::Frontend,
        });
        return df;
    }
    let mut d = Directives {
        escape: '\\',
        done: false,
        seen: Vec::new(),
        syntax: None,
        check: None,
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut i = 0usize;
    let mut current = 0usize;
    let mut any_node = false;
    let mut seen_from = false;
    let mut linter = super::lint::Linter::default();
    let diag = |line: usize, end: usize, sev: Severity, origin: Origin, msg: String| Diagnostic {
        line,
        end_line: end.max(line),
        severity: sev,
        message: msg,
        origin,
    };

    while i < lines.len() {
        let mut raw = lines[i];
        i += 1;
        if current == 0 {
            raw = raw.strip_prefix('\u{FEFF}').unwrap_or(raw);
        }
        let token = trim_newline(raw).trim_start_matches(is_go_space);
        if let Err(e) = d.possible_directive(token) {
            df.diagnostics.push(diag(
                current + 1,
                current + 1,
                Severity::Error,
                Origin::Parser,
                e,
            ));
        }
        let token = if token.starts_with('#') { "" } else { token };
        current += 1;
        let start = current;
        let (mut line, mut eol) = trim_continuation(token, d.escape);
        if eol && line.is_empty() {
            continue;
        }
        let mut empty_continuation = false;
        while !eol && i < lines.len() {
            let raw = lines[i];
            i += 1;
            let processed = trim_newline(raw);
            if let Err(e) = d.possible_directive(processed) {
                df.diagnostics.push(diag(
                    current + 1,
                    current + 1,
                    Severity::Error,
                    Origin::Parser,
                    e,
                ));
            }
            current += 1;
            if is_comment(raw) {
                continue;
            }
            if processed.trim_start_matches(is_go_space).is_empty() {
                empty_continuation = true;
                continue;
            }
            let (cl, e) = trim_continuation(processed, d.escape);
            line.push_str(&cl);
            eol = e;
        }
        if empty_continuation {
            linter.empty_continuation(start, current);
        }
        any_node = true;
        let mut node = match new_node(&line, d.escape) {
            Ok(n) => n,
            Err(e) => {
                df.diagnostics
                    .push(diag(start, current, Severity::Error, Origin::Parser, e));
                continue;
            }
        };
        if can_contain_heredoc(&node) {
            match heredocs_from_line(&line) {
                Err(e) => {
                    df.diagnostics
                        .push(diag(start, current, Severity::Error, Origin::Parser, e));
                    continue;
                }
                Ok(docs) => {
                    let mut unterminated = false;
                    for mut h in docs {
                        let mut terminated = false;
                        while i < lines.len() {
                            let raw = lines[i];
                            i += 1;
                            current += 1;
                            let mut possible = trim_newline(raw);
                            if h.chomp {
                                possible = possible.trim_start_matches('\t');
                            }
                            if possible == h.name {
                                terminated = true;
                                break;
                            }
                            h.content.push_str(raw);
                        }
                        if !terminated {
                            unterminated = true;
                            break;
                        }
                        if h.chomp {
                            h.content = chomp(&h.content);
                        }
                        node.heredocs.push(h);
                    }
                    if unterminated {
                        df.diagnostics.push(diag(
                            start,
                            current,
                            Severity::Error,
                            Origin::Parser,
                            "unterminated heredoc".into(),
                        ));
                        continue;
                    }
                }
            }
        }
        let end = current;
        match parse_instruction(&node) {
            Ok(kind) => {
                if !seen_from && !matches!(kind, Kind::Arg(_) | Kind::From { .. }) {
                    df.diagnostics.push(diag(
                        start,
                        end,
                        Severity::Error,
                        Origin::Instruction,
                        "no build stage in current context".into(),
                    ));
                }
                linter.check(&node.cmd, &node.args, &kind, start, end);
                if matches!(kind, Kind::From { .. }) {
                    seen_from = true;
                }
                df.instructions.push(Instruction {
                    line: start,
                    end_line: end,
                    original: node.original.trim_matches(is_go_space).to_string(),
                    kind,
                });
            }
            Err(e) => {
                df.diagnostics
                    .push(diag(start, end, Severity::Error, Origin::Instruction, e))
            }
        }
    }
    if !any_node {
        df.diagnostics.push(diag(
            current.max(1),
            current.max(1),
            Severity::Error,
            Origin::Parser,
            "file with no instructions".into(),
        ));
    }
    df.escape = d.escape;
    df.syntax = d.syntax;
    df.check = d.check;
    linter.finish();
    let check = df.check.clone();
    df.diagnostics.extend(
        linter
            .out
            .into_iter()
            .filter(|w| !super::lint::skipped(check.as_deref(), &w.message)),
    );
    df.diagnostics.sort_by_key(|d| d.line);
    df
}

/// Removes leading tabs from every line (`<<-`).
fn chomp(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|l| l.trim_start_matches('\t'))
        .collect()
}

/// Splits `line` into keyword, flags and arguments and runs the keyword's
/// line parser.
fn new_node(line: &str, escape: char) -> Result<Node, String> {
    let (cmd, flags, rest) = split_command(line);
    let mut node = Node {
        cmd: cmd.clone(),
        flags,
        original: line.to_string(),
        rest: rest.clone(),
        ..Node::default()
    };
    match cmd.to_ascii_lowercase().as_str() {
        "add" | "copy" | "volume" => {
            (node.args, node.json) = maybe_json_to_list(&rest)?;
        }
        "arg" => node.args = parse_words(&rest, escape),
        "cmd" | "entrypoint" | "run" | "shell" => {
            (node.args, node.json) = maybe_json(&rest)?;
        }
        "env" => node.args = parse_name_val(&rest, "ENV", escape)?,
        "label" => node.args = parse_name_val(&rest, "LABEL", escape)?,
        "expose" | "from" => node.args = whitespace_delimited(&rest),
        "healthcheck" => {
            let sep = rest.find(is_go_space).unwrap_or(rest.len());
            if sep > 0 {
                let typ = &rest[..sep];
                let after = rest[sep..].trim_start_matches(is_go_space);
                let (args, json) = maybe_json(after)?;
                node.args = std::iter::once(typ.to_string()).chain(args).collect();
                node.json = json;
            }
        }
        "maintainer" | "stopsignal" | "user" | "workdir" if !rest.is_empty() => {
            node.args = vec![rest.clone()];
        }
        "onbuild" if !rest.is_empty() => {
            let child = new_node(&rest, escape)?;
            node.args = std::iter::once(child.cmd.clone())
                .chain(child.args.iter().cloned())
                .collect();
            node.child = Some(Box::new(child));
        }
        _ => {}
    }
    Ok(node)
}

/// BuildKit's `splitCommand` + `extractBuilderFlags`.
fn split_command(line: &str) -> (String, Vec<String>, String) {
    let t = line.trim_matches(is_go_space);
    let ws = |c: char| matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ');
    let (cmd, rest) = match t.find(ws) {
        Some(p) => {
            let rest = t[p..].trim_start_matches(ws);
            (&t[..p], Some(rest))
        }
        None => (t, None),
    };
    let mut flags = Vec::new();
    let mut args = String::new();
    if let Some(rest) = rest {
        let (a, f) = extract_flags(rest);
        args = a;
        flags = f;
    }
    (
        cmd.to_string(),
        flags,
        args.trim_matches(is_go_space).to_string(),
    )
}

fn extract_flags(line: &str) -> (String, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let b = line.as_bytes();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word: Vec<u8> = Vec::new();
    let mut quote = 0u8;
    let mut blank_ok = false;
    let sp = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let to_s = |w: &[u8]| String::from_utf8_lossy(w).into_owned();
    let mut pos = 0usize;
    loop {
        let at_end = pos >= b.len();
        let ch = if at_end { 0 } else { b[pos] };
        if phase == Phase::Spaces {
            if at_end {
                break;
            }
            if sp(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || pos + 1 == b.len() || b[pos + 1] != b'-' {
                return (to_s(&b[pos..]), words);
            }
            phase = Phase::Word;
        }
        if at_end {
            if word != b"--" && (blank_ok || !word.is_empty()) {
                words.push(to_s(&word));
            }
            break;
        }
        if phase == Phase::Word {
            if sp(ch) {
                phase = Phase::Spaces;
                if word == b"--" {
                    return (to_s(&b[pos..]), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(to_s(&word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            let mut c = ch;
            if c == b'\\' {
                if pos + 1 == b.len() {
                    pos += 1;
                    continue;
                }
                pos += 1;
                c = b[pos];
            }
            word.push(c);
            pos += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        let mut c = ch;
        if c == b'\\' {
            if pos + 1 == b.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            c = b[pos];
        }
        word.push(c);
        pos += 1;
    }
    (String::new(), words)
}

/// `[\t\v\f\r ]+` splitting of an already trimmed string.
fn whitespace_delimited(rest: &str) -> Vec<String> {
    if rest.is_empty() {
        return Vec::new();
    }
    rest.split(['\t', '\x0b', '\x0c', '\r', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

const NOT_STRING_ARRAY: &str =
    "when using JSON array syntax, arrays must be comprised of strings only";

/// Tries the JSON-array form; `Ok(None)` means "not JSON, fall back".
fn parse_json(rest: &str) -> Result<Option<Vec<String>>, String> {
    let r = rest.trim_start_matches(is_go_space);
    if !r.starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(r) else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(NOT_STRING_ARRAY.to_string()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn maybe_json(rest: &str) -> Result<(Vec<String>, bool), String> {
    if rest.is_empty() {
        return Ok((Vec::new(), false));
    }
    Ok(match parse_json(rest)? {
        Some(v) => (v, true),
        None => (vec![rest.to_string()], false),
    })
}

fn maybe_json_to_list(rest: &str) -> Result<(Vec<String>, bool), String> {
    Ok(match parse_json(rest)? {
        Some(v) => (v, true),
        None => (whitespace_delimited(rest), false),
    })
}

/// BuildKit's `parseWords`: whitespace-separated words, quotes and escapes
/// kept (they are removed later by expansion).
fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut word = String::new();
    let mut pos = 0usize;
    loop {
        let at_end = pos >= chars.len();
        let mut ch = if at_end { '\0' } else { chars[pos] };
        if phase == Phase::Spaces {
            if at_end {
                break;
            }
            if is_go_space(ch) {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if at_end {
            if blank_ok || !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            break;
        }
        if phase == Phase::Word {
            if is_go_space(ch) {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                word.push(ch);
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(ch);
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    words
}

/// ENV/LABEL: `k=v ...` or legacy `k v`. Returns flat
/// `[key, value, delimiter]` triples like BuildKit's node chain.
fn parse_name_val(rest: &str, key: &str, escape: char) -> Result<Vec<String>, String> {
    let words = parse_words(rest, escape);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    if !words[0].contains('=') {
        let ws = |c: char| matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ');
        let Some(p) = rest.find(ws) else {
            return Err(format!("{key} must have two arguments"));
        };
        let k = &rest[..p];
        let v = rest[p..].trim_start_matches(ws);
        return Ok(vec![k.to_string(), v.to_string(), String::new()]);
    }
    let mut out = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                go_quote(&w)
            ));
        };
        out.extend([k.to_string(), v.to_string(), "=".to_string()]);
    }
    Ok(out)
}

fn can_contain_heredoc(node: &Node) -> bool {
    let mut n = node;
    if n.cmd.eq_ignore_ascii_case("onbuild")
        && let Some(c) = &n.child
    {
        n = c;
    }
    matches!(n.cmd.to_ascii_lowercase().as_str(), "run" | "copy" | "add") && !n.json
}

/// Matches `^(\d*)<<(-?)([^<]*)$` and interprets the terminator word.
fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, String> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let Some(after) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match after.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, after),
    };
    if rest.contains('<') || rest.is_empty() {
        return Ok(None);
    }
    let fd = word[..digits].parse::<u32>().unwrap_or(0);
    let none = |_: &str| None;
    let lx = Lexer {
        skip_unset_env: true,
        ..Lexer::new('\\')
    };
    let words = lx.run(rest, &none).map_err(|e| e.0)?.1;
    if words.len() != 1 {
        return Ok(None);
    }
    let lx_raw = Lexer {
        raw_quotes: true,
        ..lx
    };
    let raw_words = lx_raw.run(rest, &none).map_err(|e| e.0)?.1;
    if raw_words.len() != words.len() {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    }
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    Ok(Some(Heredoc {
        name: words[0].clone(),
        content: String::new(),
        expand: quotes(&words[0]) == quotes(&raw_words[0]),
        chomp,
        fd,
    }))
}

fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, String> {
    let none = |_: &str| None;
    let lx = Lexer {
        raw_quotes: true,
        raw_escapes: true,
        skip_unset_env: true,
        ..Lexer::new('\\')
    };
    let words = lx.run(line, &none).map(|r| r.1).unwrap_or_default();
    let mut out = Vec::new();
    for w in words {
        if let Some(h) = parse_heredoc(&w)? {
            out.push(h);
        }
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq)]
enum FlagType {
    Bool,
    Str,
    Strs,
}

/// Parsed builder flags (BuildKit's `BFlags`).
#[derive(Default)]
struct Flags {
    strs: HashMap<String, String>,
    bools: HashMap<String, bool>,
    lists: HashMap<String, Vec<String>>,
}

impl Flags {
    fn string(&self, name: &str) -> Option<String> {
        self.strs.get(name).filter(|s| !s.is_empty()).cloned()
    }
    fn boolean(&self, name: &str) -> bool {
        self.bools.get(name).copied().unwrap_or(false)
    }
    fn list(&self, name: &str) -> Vec<String> {
        self.lists.get(name).cloned().unwrap_or_default()
    }
}

fn parse_flags(args: &[String], defs: &[(&str, FlagType)]) -> Result<Flags, String> {
    let mut out = Flags::default();
    let mut used: Vec<String> = Vec::new();
    for arg in args {
        let Some(a) = arg.strip_prefix("--") else {
            return Err(format!("arg should start with -- : {arg}"));
        };
        if a.is_empty() {
            break;
        }
        let (name, value) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (a, None),
        };
        let Some(&(_, ft)) = defs.iter().find(|(n, _)| *n == name) else {
            return Err(format!("unknown flag: {name}"));
        };
        if used.iter().any(|u| u == name) && ft != FlagType::Strs {
            return Err(format!("duplicate flag specified: {name}"));
        }
        used.push(name.to_string());
        match ft {
            FlagType::Bool => {
                let v = match value {
                    Some("") => return Err(format!("missing a value on flag: {name}")),
                    None => true,
                    Some(v) => match v.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(format!(
                                "expecting boolean value for flag {name}, not: {v}"
                            ));
                        }
                    },
                };
                out.bools.insert(name.to_string(), v);
            }
            FlagType::Str => {
                let Some(v) = value else {
                    return Err(format!("missing a value on flag: {name}"));
                };
                out.strs.insert(name.to_string(), v.to_string());
            }
            FlagType::Strs => {
                let Some(v) = value else {
                    return Err(format!("missing a value on flag: {name}"));
                };
                out.lists
                    .entry(name.to_string())
                    .or_default()
                    .push(v.to_string());
            }
        }
    }
    Ok(out)
}

fn at_least_one(cmd: &str) -> String {
    format!("{cmd} requires at least one argument")
}
fn exactly_one(cmd: &str) -> String {
    format!("{cmd} requires exactly one argument")
}
fn no_destination(cmd: &str) -> String {
    format!(
        "{cmd} requires at least two arguments, but only one was provided. Destination could not be determined"
    )
}
fn blank_names(cmd: &str) -> String {
    format!("{cmd} names can not be blank")
}

/// `handleJSONArgs`.
fn json_args(args: &[String], json: bool) -> Vec<String> {
    if args.is_empty() {
        Vec::new()
    } else if json {
        args.to_vec()
    } else {
        vec![args.join(" ")]
    }
}

fn shell_or_exec(node: &Node) -> ShellOrExec {
    if node.json {
        ShellOrExec::Exec(node.args.clone())
    } else {
        ShellOrExec::Shell(node.args.join(" "))
    }
}

fn kvps(args: &[String], cmd: &str) -> Result<Vec<(String, String)>, String> {
    if args.is_empty() {
        return Err(at_least_one(cmd));
    }
    if !args.len().is_multiple_of(3) {
        return Err(format!("Bad input to {cmd}, too many arguments"));
    }
    args.chunks(3)
        .map(|c| {
            if c[0].is_empty() {
                Err(blank_names(cmd))
            } else {
                Ok((c[0].clone(), c[1].clone()))
            }
        })
        .collect()
}

fn suggestion(name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<&str> = None;
    let mut min = 3;
    for opt in INSTRUCTIONS {
        let o = opt.to_lowercase();
        if o == lower {
            return None;
        }
        let d = levenshtein(&lower, &o);
        if d < min {
            min = d;
            best = Some(opt);
        }
    }
    let m = best?;
    Some(if name == name.to_lowercase() {
        m.to_lowercase()
    } else if name == name.to_uppercase() {
        m.to_uppercase()
    } else {
        m.to_lowercase()
    })
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn copy_args(node: &Node, cmd: &str, flags: &Flags) -> Result<CopyArgs, String> {
    let args = &node.args;
    let (srcs, dest) = args.split_at(args.len() - 1);
    let dest = dest[0].clone();
    if parse_heredoc(&dest).ok().flatten().is_some() {
        return Err(format!("{cmd} cannot accept a heredoc as a destination"));
    }
    let mut sources = Vec::new();
    let mut heredocs = Vec::new();
    for s in srcs {
        match parse_heredoc(s).ok().flatten() {
            Some(h) => {
                let found = node.heredocs.iter().find(|x| x.name == h.name);
                heredocs.push(Heredoc {
                    content: found.map(|f| f.content.clone()).unwrap_or_default(),
                    ..h
                });
            }
            None => sources.push(s.clone()),
        }
    }
    Ok(CopyArgs {
        sources,
        dest,
        heredocs,
        from: flags.string("from"),
        chown: flags.string("chown"),
        chmod: flags.string("chmod"),
        link: flags.boolean("link"),
        parents: flags.boolean("parents"),
        exclude: flags.list("exclude"),
        keep_git_dir: flags.boolean("keep-git-dir"),
        checksum: flags.string("checksum"),
        unpack: flags.bools.get("unpack").copied(),
    })
}

/// The instruction parser (BuildKit's `instructions.ParseInstruction`).
fn parse_instruction(node: &Node) -> Result<Kind, String> {
    use FlagType::*;
    let args = &node.args;
    let lower = node.cmd.to_ascii_lowercase();
    match lower.as_str() {
        "env" => {
            parse_flags(&node.flags, &[])?;
            Ok(Kind::Env(kvps(args, "ENV")?))
        }
        "maintainer" => {
            if args.len() != 1 {
                return Err(exactly_one("MAINTAINER"));
            }
            parse_flags(&node.flags, &[])?;
            Ok(Kind::Maintainer(args[0].clone()))
        }
        "label" => {
            parse_flags(&node.flags, &[])?;
            Ok(Kind::Label(kvps(args, "LABEL")?))
        }
        "add" => {
            if args.len() < 2 {
                return Err(no_destination("ADD"));
            }
            let f = parse_flags(
                &node.flags,
                &[
                    ("chown", Str),
                    ("chmod", Str),
                    ("link", Bool),
                    ("keep-git-dir", Bool),
                    ("checksum", Str),
                    ("exclude", Strs),
                    ("unpack", Bool),
                ],
            )?;
            Ok(Kind::Add(copy_args(node, "ADD", &f)?))
        }
        "copy" => {
            if args.len() < 2 {
                return Err(no_destination("COPY"));
            }
            let f = parse_flags(
                &node.flags,
                &[
                    ("exclude", Strs),
                    ("parents", Bool),
                    ("chown", Str),
                    ("from", Str),
                    ("chmod", Str),
                    ("link", Bool),
                ],
            )?;
            Ok(Kind::Copy(copy_args(node, "COPY", &f)?))
        }
        "from" => {
            let alias = match args.len() {
                3 if args[1].eq_ignore_ascii_case("as") => {
                    let name = args[2].to_lowercase();
                    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && name.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c)
                        });
                    if !valid {
                        return Err(format!(
                            "invalid name for build stage: {}, name can't start with a number or contain symbols",
                            go_quote(&args[2])
                        ));
                    }
                    Some(name)
                }
                1 => None,
                _ => return Err("FROM requires either one or three arguments".into()),
            };
            let f = parse_flags(&node.flags, &[("platform", Str)])?;
            Ok(Kind::From {
                image: args[0].clone(),
                alias,
                platform: f.string("platform"),
            })
        }
        "onbuild" => {
            if args.is_empty() {
                return Err(at_least_one("ONBUILD"));
            }
            parse_flags(&node.flags, &[])?;
            let trigger = args[0].trim().to_uppercase();
            match trigger.as_str() {
                "ONBUILD" => {
                    return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into());
                }
                "MAINTAINER" | "FROM" => {
                    return Err(format!("{trigger} isn't allowed as an ONBUILD trigger"));
                }
                _ => {}
            }
            let mut expr = strip_onbuild(&node.original);
            for h in &node.heredocs {
                expr.push('\n');
                expr.push_str(&h.content);
                expr.push_str(&h.name);
            }
            let child = node.child.as_deref().cloned().unwrap_or_default();
            let child = Node {
                heredocs: node.heredocs.clone(),
                ..child
            };
            let kind = match parse_instruction(&child) {
                Ok(k) => k,
                Err(_) => Kind::Unknown {
                    name: child.cmd.clone(),
                    args: child.rest.clone(),
                },
            };
            Ok(Kind::Onbuild(Box::new(Instruction {
                line: 0,
                end_line: 0,
                original: expr,
                kind,
            })))
        }
        "workdir" => {
            if args.len() != 1 {
                return Err(exactly_one("WORKDIR"));
            }
            parse_flags(&node.flags, &[])?;
            Ok(Kind::Workdir(args[0].clone()))
        }
        "run" => {
            let f = parse_flags(
                &node.flags,
                &[("mount", Strs), ("network", Str), ("security", Str)],
            )?;
            Ok(Kind::Run {
                cmd: shell_or_exec(node),
                heredocs: node.heredocs.clone(),
                mounts: f.list("mount"),
                network: f.string("network"),
                security: f.string("security"),
            })
        }
        "cmd" => {
            parse_flags(&node.flags, &[])?;
            Ok(Kind::Cmd(shell_or_exec(node)))
        }
        "entrypoint" => {
            parse_flags(&node.flags, &[])?;
            Ok(Kind::Entrypoint(shell_or_exec(node)))
        }
        "healthcheck" => parse_healthcheck(node),
        "expose" => {
            if args.is_empty() {
                return Err(at_least_one("EXPOSE"));
            }
            parse_flags(&node.flags, &[])?;
            let mut ports = args.clone();
            ports.sort();
            Ok(Kind::Expose(ports))
        }
        "user" => {
            if args.len() != 1 {
                return Err(exactly_one("USER"));
            }
            parse_flags(&node.flags, &[])?;
            Ok(Kind::User(args[0].clone()))
        }
        "volume" => {
            if args.is_empty() {
                return Err(at_least_one("VOLUME"));
            }
            parse_flags(&node.flags, &[])?;
            let mut vols = Vec::new();
            for v in args {
                let v = v.trim_matches(is_go_space);
                if v.is_empty() {
                    return Err("VOLUME specified can not be an empty string".into());
                }
                vols.push(v.to_string());
            }
            Ok(Kind::Volume(vols))
        }
        "stopsignal" => {
            if args.len() != 1 {
                return Err(exactly_one("STOPSIGNAL"));
            }
            Ok(Kind::StopSignal(args[0].clone()))
        }
        "arg" => {
            if args.is_empty() {
                return Err(at_least_one("ARG"));
            }
            args.iter()
                .map(|a| match a.split_once('=') {
                    Some(("", _)) => Err(blank_names("ARG")),
                    Some((k, v)) => Ok((k.to_string(), Some(v.to_string()))),
                    None => Ok((a.clone(), None)),
                })
                .collect::<Result<_, _>>()
                .map(Kind::Arg)
        }
        "shell" => {
            parse_flags(&node.flags, &[])?;
            let s = json_args(args, node.json);
            if s.is_empty() {
                Err(at_least_one("SHELL"))
            } else if node.json {
                Ok(Kind::Shell(s))
            } else {
                Err("SHELL requires the arguments to be in JSON form".into())
            }
        }
        _ => {
            let mut msg = format!("unknown instruction: {}", node.cmd);
            if let Some(s) = suggestion(&node.cmd) {
                msg.push_str(&format!(" (did you mean {s}?)"));
            }
            Err(msg)
        }
    }
}

/// `(?i)^\s*ONBUILD\s*` removed from the original line.
fn strip_onbuild(original: &str) -> String {
    let is_s = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r');
    let t = original.trim_start_matches(is_s);
    match t.get(..7) {
        Some(k) if k.eq_ignore_ascii_case("onbuild") => t[7..].trim_start_matches(is_s).to_string(),
        _ => original.to_string(),
    }
}

fn parse_healthcheck(node: &Node) -> Result<Kind, String> {
    use FlagType::*;
    let args = &node.args;
    if args.is_empty() {
        return Err(at_least_one("HEALTHCHECK"));
    }
    let typ = args[0].to_uppercase();
    let rest = &args[1..];
    if typ == "NONE" {
        if !rest.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(Kind::Healthcheck(None));
    }
    let f = parse_flags(
        &node.flags,
        &[
            ("interval", Str),
            ("timeout", Str),
            ("start-period", Str),
            ("start-interval", Str),
            ("retries", Str),
        ],
    )?;
    let test = match typ.as_str() {
        "CMD" => {
            let cmd = json_args(rest, node.json);
            if cmd.is_empty() {
                return Err("Missing command after HEALTHCHECK CMD".into());
            }
            let t = if node.json { "CMD" } else { "CMD-SHELL" };
            std::iter::once(t.to_string()).chain(cmd).collect()
        }
        _ => {
            return Err(format!(
                "Unknown type {} in HEALTHCHECK (try CMD)",
                go_quote(&typ)
            ));
        }
    };
    let mut durations = Vec::new();
    for name in ["interval", "timeout", "start-period", "start-interval"] {
        let v = f.strs.get(name).cloned().unwrap_or_default();
        if !v.is_empty() {
            let d = parse_go_duration(&v)?;
            if d != 0 && d < 1_000_000 {
                return Err(format!(
                    "Interval {} cannot be less than 1ms",
                    go_quote(name)
                ));
            }
        }
        durations.push(if v.is_empty() { None } else { Some(v) });
    }
    let retries = match f.strs.get("retries").map(String::as_str) {
        None | Some("") => None,
        Some(v) => {
            let n = parse_go_int32(v)?;
            if n < 0 {
                return Err(format!("--retries cannot be negative ({n})"));
            }
            Some(n as u32)
        }
    };
    let mut d = durations.into_iter();
    Ok(Kind::Healthcheck(Some(Healthcheck {
        test,
        interval: d.next().flatten(),
        timeout: d.next().flatten(),
        start_period: d.next().flatten(),
        start_interval: d.next().flatten(),
        retries,
    })))
}

/// `strconv.ParseInt(s, 10, 32)` with Go's error texts.
fn parse_go_int32(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let syntax = || format!("strconv.ParseInt: parsing {}: invalid syntax", go_quote(s));
    if digits.is_empty() {
        return Err(syntax());
    }
    let digits = digits.replace('_', "");
    if !digits.bytes().all(|b| b.is_ascii_digit()) || s.contains('_') {
        return Err(syntax());
    }
    let range = || {
        format!(
            "strconv.ParseInt: parsing {}: value out of range",
            go_quote(s)
        )
    };
    let v: i64 = match digits.parse::<i128>() {
        Ok(v) if v <= i64::MAX as i128 => v as i64,
        _ => return Err(range()),
    };
    let v = if s.starts_with('-') { -v } else { v };
    if v > i32::MAX as i64 || v < i32::MIN as i64 {
        return Err(range());
    }
    Ok(v)
}

/// Go's `time.ParseDuration`, returning nanoseconds or Go's error text.
pub(crate) fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next()
        && (c == '-' || c == '+')
    {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if let Some(r) = s.strip_prefix('.') {
            let fl = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..fl];
            s = &r[fl..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = s
            .char_indices()
            .find(|&(_, c)| c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(unit),
                    go_quote(orig)
                ));
            }
        };
        let iv: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse::<u128>().map_err(|_| invalid())?
        };
        let mut v = iv.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            let mut f: u128 = 0;
            let mut sc: u128 = 1;
            for d in frac_part.bytes().take(30) {
                f = f * 10 + u128::from(d - b'0');
                sc *= 10;
            }
            v += f * scale / sc;
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > i64::MAX as u128 + u128::from(neg) {
            return Err(invalid());
        }
    }
    let t = total as i128;
    Ok(if neg { (-t) as i64 } else { t as i64 })
}
