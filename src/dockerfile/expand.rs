//! BuildKit's word lexer: quote removal, escapes and `$var` / `${var...}`
//! expansion, with the same error texts as `frontend/dockerfile/shell`.
//!
//! The lexer works on one "word" (an instruction argument) at a time. It
//! either returns the expanded text ([`expand`], BuildKit's `ProcessWord`)
//! or the text split on unquoted whitespace after expansion
//! ([`expand_words`], BuildKit's `ProcessWords`). Unset variables expand to
//! the empty string. Pattern operators (`#`, `##`, `%`, `%%`, `/`, `//`)
//! use shell wildcards `*` and `?`; like BuildKit's regexp translation,
//! the wildcards never match a newline.

use std::fmt;

/// An expansion failure. `Display` gives BuildKit's text, e.g.
/// `failed to process "${v:?oops}": v: oops`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError(pub String);

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExpandError {}

/// Expands `word` (BuildKit `ProcessWord`): variables are substituted,
/// quotes removed and escapes resolved; whitespace is kept.
pub fn expand(
    word: &str,
    env: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<String, ExpandError> {
    Lexer::new(escape).run(word, env).map(|(w, _)| w)
}

/// Expands `word` and splits the result on unquoted whitespace (BuildKit
/// `ProcessWords`). Whitespace produced by a variable splits too; quoted
/// whitespace does not.
pub fn expand_words(
    word: &str,
    env: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<Vec<String>, ExpandError> {
    Lexer::new(escape).run(word, env).map(|(_, ws)| ws)
}

/// The lexer's knobs, mirroring the fields of BuildKit's `shell.Lex`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexer {
    pub escape: char,
    /// Keep quote characters in the output.
    pub raw_quotes: bool,
    /// Keep escape characters in the output.
    pub raw_escapes: bool,
    /// Treat quotes as ordinary characters.
    pub skip_process_quotes: bool,
    /// Leave references to unset variables untouched (`$x`, `${x}`).
    pub skip_unset_env: bool,
}

impl Lexer {
    pub(crate) fn new(escape: char) -> Self {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_process_quotes: false,
            skip_unset_env: false,
        }
    }

    /// Runs the lexer over `source`, returning the single-word result and
    /// the split words, or BuildKit's wrapped error.
    pub(crate) fn run(
        &self,
        source: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, Vec<String>), ExpandError> {
        let mut st = State {
            lx: *self,
            chars: source.chars().collect(),
            pos: 0,
            env,
        };
        let raw = self.raw_escapes;
        st.process_stop_on(None, raw).map_err(|e| {
            ExpandError(format!(
                "failed to process {}: {}",
                super::go_quote(source),
                e
            ))
        })
    }
}

/// Accumulates words the way BuildKit's `wordsStruct` does.
#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() && self.in_word {
            if !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else if !ch.is_whitespace() {
            self.add_raw_char(ch);
        }
    }
    fn add_raw_char(&mut self, ch: char) {
        self.word.push(ch);
        self.in_word = true;
    }
    fn add_string(&mut self, s: &str) {
        for ch in s.chars() {
            self.add_char(ch);
        }
    }
    fn add_raw_string(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }
    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(std::mem::take(&mut self.word));
        }
        self.words
    }
}

struct State<'a> {
    lx: Lexer,
    chars: Vec<char>,
    pos: usize,
    env: &'a dyn Fn(&str) -> Option<String>,
}

/// Go's `string(scanner.EOF)`: the replacement character.
const EOF_CHAR: char = '\u{FFFD}';

impl State<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn get_env(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }

    /// A word up to `stop`; at the end of input the error is `missing`
    /// (BuildKit's `syntax error: missing '}'` and friends).
    fn word_until(
        &mut self,
        stop: Option<char>,
        raw: bool,
        missing: &str,
    ) -> Result<String, String> {
        match self.process_stop_on(stop, raw) {
            Ok((w, _)) => Ok(w),
            Err(_) if self.peek().is_none() => Err(missing.to_string()),
            Err(e) => Err(e),
        }
    }

    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = self.lx.raw_escapes;
        self.lx.raw_escapes = raw_escapes;
        let r = self.process_stop_on_inner(stop);
        self.lx.raw_escapes = saved;
        r
    }

    fn process_stop_on_inner(
        &mut self,
        stop: Option<char>,
    ) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if stop == Some(ch) {
                self.next();
                return Ok((result, words.finish()));
            }
            if ch == '$' {
                let tmp = self.process_dollar()?;
                result.push_str(&tmp);
                words.add_string(&tmp);
                continue;
            }
            if !self.lx.skip_process_quotes && (ch == '\'' || ch == '"') {
                let tmp = if ch == '\'' {
                    self.process_single_quote()?
                } else {
                    self.process_double_quote()?
                };
                result.push_str(&tmp);
                words.add_raw_string(&tmp);
                continue;
            }
            let mut ch = self.next().unwrap_or(EOF_CHAR);
            if ch == self.lx.escape {
                if self.lx.raw_escapes {
                    words.add_raw_char(ch);
                    result.push(ch);
                }
                match self.next() {
                    None => break,
                    Some(c) => ch = c,
                }
                words.add_raw_char(ch);
            } else {
                words.add_char(ch);
            }
            result.push(ch);
        }
        if let Some(s) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {s}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn process_single_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let q = self.next().unwrap_or('\'');
        if self.lx.raw_quotes {
            result.push(q);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    );
                }
                Some('\'') => {
                    if self.lx.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let q = self.next().unwrap_or('"');
        if self.lx.raw_quotes {
            result.push(q);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    );
                }
                Some('"') => {
                    self.next();
                    if self.lx.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let v = self.process_dollar()?;
                    result.push_str(&v);
                }
                Some(_) => {
                    let mut ch = self.next().unwrap_or(EOF_CHAR);
                    if ch == self.lx.escape {
                        if self.lx.raw_escapes {
                            result.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            Some(c) if c == '"' || c == '$' || c == self.lx.escape => {
                                self.next();
                                ch = c;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn process_dollar(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lx.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{') | Some('}') | Some(':') => {
                return Err("syntax error: bad substitution".into());
            }
            _ => {}
        }
        let name = self.process_name();
        let mut ch = self.next().unwrap_or(EOF_CHAR);
        let mut chs = ch.to_string();
        let mut null_is_unset = false;
        match ch {
            '}' => Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lx.skip_unset_env => format!("${{{name}}}"),
                None => String::new(),
            }),
            ':' | '+' | '-' | '?' | '#' | '%' => {
                if ch == ':' {
                    null_is_unset = true;
                    ch = self.next().unwrap_or(EOF_CHAR);
                    chs.push(ch);
                }
                let raw = ch == '#' || ch == '%';
                let word = self.word_until(Some('}'), raw, "syntax error: missing '}'")?;
                let value = self.get_env(&name);
                if self.lx.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}{chs}{word}}}"));
                }
                let set = value.is_some();
                let value = value.unwrap_or_default();
                match ch {
                    '-' => Ok(if !set || (null_is_unset && value.is_empty()) {
                        word
                    } else {
                        value
                    }),
                    '+' => Ok(if !set || (null_is_unset && value.is_empty()) {
                        String::new()
                    } else {
                        word
                    }),
                    '?' => {
                        if !set {
                            let msg = if word.is_empty() {
                                "is not allowed to be unset".to_string()
                            } else {
                                word
                            };
                            return Err(format!("{name}: {msg}"));
                        }
                        if null_is_unset && value.is_empty() {
                            let msg = if word.is_empty() {
                                "is not allowed to be empty".to_string()
                            } else {
                                word
                            };
                            return Err(format!("{name}: {msg}"));
                        }
                        Ok(value)
                    }
                    '%' | '#' => {
                        let mut pat = word.as_str();
                        let mut greedy = false;
                        if pat.starts_with(ch) {
                            greedy = true;
                            pat = &pat[ch.len_utf8()..];
                        }
                        if ch == '%' {
                            trim_suffix(pat, &value, greedy)
                        } else {
                            trim_prefix(pat, &value, greedy)
                        }
                    }
                    _ => Err(format!("unsupported modifier ({chs}) in substitution")),
                }
            }
            '/' => {
                let replace_all = self.peek() == Some('/');
                if replace_all {
                    self.next();
                }
                let pattern =
                    self.word_until(Some('/'), true, "syntax error: missing '/' in ${}")?;
                let replacement = self.word_until(Some('}'), true, "syntax error: missing '}'")?;
                let value = self.get_env(&name);
                if self.lx.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
                }
                let value = value.unwrap_or_default();
                let pat = compile_pattern(&pattern)
                    .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))?;
                Ok(replace(&pat, &value, &replacement, replace_all))
            }
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_numeric() {
                while let Some(c) = self.peek() {
                    if !c.is_numeric() {
                        break;
                    }
                    self.next();
                    name.push(c);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return ch.to_string();
            }
            if !ch.is_alphabetic() && !ch.is_numeric() && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }
}

/// One element of a translated shell pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `?`: any one character except newline.
    Any,
    /// `*`: any run of characters without newline.
    Star,
}

/// Translates a shell wildcard pattern like BuildKit's
/// `convertShellPatternToRegex`, including its escape rules and errors.
fn compile_pattern(pattern: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push(Tok::Star),
            '?' => out.push(Tok::Any),
            '\\' => {
                if matches!(chars.get(i), Some('}') | Some('/')) {
                    continue;
                }
                match chars.get(i) {
                    Some(&t) if t == '*' || t == '?' || t == '\\' => {
                        out.push(Tok::Lit(t));
                        i += 1;
                    }
                    Some(&t) => return Err(format!("invalid escape '\\{t}'")),
                    None => return Err("invalid escape '\\%!c(int32=-1)'".into()),
                }
            }
            _ => out.push(Tok::Lit(c)),
        }
    }
    Ok(out)
}

/// Finds where `pat` matched from `start` ends, preferring longer (greedy)
/// or shorter star expansions first — the result of a backtracking regexp.
fn match_from(pat: &[Tok], text: &[char], start: usize, greedy: bool) -> Option<usize> {
    // memo[p][t]: None = not computed, Some(None) = fails, Some(Some(e)) = end.
    let cols = text.len() + 1;
    let mut memo: Vec<Option<Option<usize>>> = vec![None; (pat.len() + 1) * cols];
    fn go(
        p: usize,
        t: usize,
        pat: &[Tok],
        text: &[char],
        greedy: bool,
        memo: &mut Vec<Option<Option<usize>>>,
        cols: usize,
    ) -> Option<usize> {
        if p == pat.len() {
            return Some(t);
        }
        if let Some(r) = memo[p * cols + t] {
            return r;
        }
        let r = match pat[p] {
            Tok::Lit(c) => {
                if text.get(t) == Some(&c) {
                    go(p + 1, t + 1, pat, text, greedy, memo, cols)
                } else {
                    None
                }
            }
            Tok::Any => match text.get(t) {
                Some(&c) if c != '\n' => go(p + 1, t + 1, pat, text, greedy, memo, cols),
                _ => None,
            },
            Tok::Star => {
                let mut max = t;
                while max < text.len() && text[max] != '\n' {
                    max += 1;
                }
                let mut found = None;
                if greedy {
                    for e in (t..=max).rev() {
                        if let Some(r) = go(p + 1, e, pat, text, greedy, memo, cols) {
                            found = Some(r);
                            break;
                        }
                    }
                } else {
                    for e in t..=max {
                        if let Some(r) = go(p + 1, e, pat, text, greedy, memo, cols) {
                            found = Some(r);
                            break;
                        }
                    }
                }
                found
            }
        };
        memo[p * cols + t] = Some(r);
        r
    }
    go(0, start, pat, text, greedy, &mut memo, cols)
}

fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Result<String, String> {
    let pat = compile_pattern(pattern)
        .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))?;
    let text: Vec<char> = value.chars().collect();
    Ok(match match_from(&pat, &text, 0, greedy) {
        Some(end) => text[end..].iter().collect(),
        None => value.to_string(),
    })
}

/// Reverses a pattern but keeps each `\x` escape pair in order.
fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut units: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            units.push(format!("\\{}", chars[i + 1]));
            i += 2;
        } else {
            units.push(chars[i].to_string());
            i += 1;
        }
    }
    units.reverse();
    units.concat()
}

fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Result<String, String> {
    let rp = reverse_pattern(pattern);
    let rv: String = value.chars().rev().collect();
    let out = trim_prefix(&rp, &rv, greedy)?;
    Ok(out.chars().rev().collect())
}

fn replace(pat: &[Tok], value: &str, replacement: &str, all: bool) -> String {
    let text: Vec<char> = value.chars().collect();
    let mut out = String::new();
    let mut pos = 0;
    let mut last_empty_at: Option<usize> = None;
    while pos <= text.len() {
        let mut found = None;
        for s in pos..=text.len() {
            if let Some(e) = match_from(pat, &text, s, true) {
                // Go skips an empty match right after a previous match.
                if e == s && last_empty_at == Some(s) {
                    continue;
                }
                found = Some((s, e));
                break;
            }
        }
        let Some((s, e)) = found else { break };
        out.extend(&text[pos..s]);
        out.push_str(replacement);
        if e == s {
            if s < text.len() {
                out.push(text[s]);
            }
            pos = s + 1;
        } else {
            pos = e;
            last_empty_at = Some(e);
        }
        if !all {
            break;
        }
    }
    if pos <= text.len() {
        out.extend(&text[pos.min(text.len())..]);
    }
    out
}
