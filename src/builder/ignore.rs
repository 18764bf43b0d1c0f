//! `.dockerignore` as docker reads and applies it, ported from the Go code
//! BuildKit runs: moby/patternmatcher's `ignorefile.ReadAll` (UTF-8 BOM
//! dropped, `#` comments only in column one, whitespace trimmed, `!`
//! exceptions, `filepath.Clean`, one leading `/` dropped), `patternmatcher.New`
//! (patterns checked with Go's `filepath.Match`), and its matching, where each
//! pattern becomes a Go regexp: `*` and `?` do not cross `/`, `**` spans any
//! number of directories, `[...]` and `\` reach Go's `regexp` as written,
//! the last matching pattern wins and a pattern matching a parent directory
//! covers everything below it. The regexps run on the `regex` crate (the
//! same RE2 family), each re-spelt from Go's syntax so it means what it means
//! in docker (see `goregexp`). [`Matcher::walks_excluded_dir`] is fsutil's
//! rule for descending into an excluded directory in case an exception
//! re-includes something inside. [`glob_match`] is Go's `filepath.Match`
//! itself, for COPY sources and reference filters. The rules are written by
//! hand: no crate implements docker's semantics (gitignore crates differ on
//! `*`, `!` and anchoring).

mod goregexp;
#[cfg(test)]
mod tests;

use std::fmt;

/// Why a `.dockerignore` stops a build. `Display` is the text docker prints
/// after `failed to solve: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreError {
    /// `ReadAll` failed: a line reached `bufio.Scanner`'s 64 KiB token limit.
    /// The Dockerfile frontend reports it while loading `.dockerignore`.
    Read(String),
    /// `patternmatcher.New` refused a pattern; the client's context sender
    /// reports it with the whole pattern list.
    Invalid {
        patterns: Vec<String>,
        reason: String,
    },
    /// A pattern `filepath.Match` accepts but whose regexp Go rejects (such as
    /// `[Local-Only]`): it fails when first evaluated while walking.
    Match,
}

impl fmt::Display for IgnoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoreError::Read(e) => write!(f, "failed to parse dockerignore: {e}"),
            IgnoreError::Invalid { patterns, reason } => write!(
                f,
                "error from sender: invalid excludepatterns: [{}]: {reason}",
                patterns.join(" ")
            ),
            IgnoreError::Match => write!(
                f,
                "error from sender: failed to match excludepatterns: {BAD_PATTERN}"
            ),
        }
    }
}

impl std::error::Error for IgnoreError {}

/// Go's `filepath.ErrBadPattern` text.
const BAD_PATTERN: &str = "syntax error in pattern";

/// `bufio.Scanner`'s default maximum token size: a line (with its `\r`)
/// of this many bytes or more cannot be scanned.
const MAX_LINE: usize = 64 * 1024;

/// `ignorefile.ReadAll`: the patterns of a `.dockerignore`, `!` kept in front.
pub fn read_all(text: &str) -> Result<Vec<String>, IgnoreError> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.is_empty() || text.ends_with('\n') {
        lines.pop(); // the scanner yields no empty token after a final newline
    }
    if lines.iter().any(|l| l.len() >= MAX_LINE) {
        return Err(IgnoreError::Read("bufio.Scanner: token too long".into()));
    }
    let mut out = Vec::new();
    for (n, raw) in lines.into_iter().enumerate() {
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        if n == 0 {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim(); // Go's TrimSpace: the same White_Space set
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut p = String::new();
        if !pattern.is_empty() {
            p = go_clean(pattern);
            if p.len() > 1 && p.starts_with('/') {
                p.remove(0);
            }
        }
        if invert {
            p.insert(0, '!');
        }
        out.push(p);
    }
    Ok(out)
}

/// Go's `path.Clean` (`filepath.Clean` with `/` as the separator).
fn go_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    let joined = out.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// Go's `filepath.Dir`.
fn go_dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => go_clean(&p[..=i]),
        None => ".".into(),
    }
}

/// Go's `filepath.ErrBadPattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

impl fmt::Display for BadPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(BAD_PATTERN)
    }
}

/// Whether `s` matches `pat` by Go's `filepath.Match`: `*` and `?` never match
/// `/`, `[...]` classes (`^` negates; `!` is an ordinary member) with ranges,
/// `\` escapes. A malformed pattern matches nothing.
pub fn glob_match(pat: &str, s: &str) -> bool {
    go_match(pat, s).unwrap_or(false)
}

/// Go's `filepath.Match` (Go 1.16 and later: a malformed pattern is an error
/// whatever the name). Works on bytes as Go does.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pat = pattern.as_bytes();
    let mut name = name.as_bytes();
    'chunks: while !pat.is_empty() {
        let (star, chunk, rest) = scan_chunk(pat);
        pat = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&b'/'));
        }
        let here = match_chunk(chunk, name);
        if let Ok(Some(t)) = here
            && (t.is_empty() || !pat.is_empty())
        {
            name = t;
            continue;
        }
        here?;
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                if let Some(t) = match_chunk(chunk, &name[i + 1..])? {
                    if pat.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'chunks;
                }
                i += 1;
            }
        }
        // No match: still report a malformed remainder.
        while !pat.is_empty() {
            let (_, chunk, rest) = scan_chunk(pat);
            pat = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// The next run of non-`*` pattern bytes, and whether `*`s preceded it.
fn scan_chunk(mut pat: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while pat.first() == Some(&b'*') {
        pat = &pat[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pat.len() {
        match pat[i] {
            b'\\' if i + 1 < pat.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pat[..i], &pat[i..])
}

/// Matches `chunk` against the start of `s`, returning the rest of `s`; after
/// a mismatch it keeps reading the chunk to report a malformed one.
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> Result<Option<&'a [u8]>, BadPattern> {
    let mut failed = false;
    while let Some(&c) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            b'[' => {
                let mut r = 0;
                if !failed {
                    let (ch, n) = decode_rune(s);
                    r = ch;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    s = &s[decode_rune(s).1..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if c == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                }
                if !failed {
                    if chunk[0] != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

/// A possibly escaped class member; never leaves `chunk` empty.
fn get_esc(mut chunk: &[u8]) -> Result<(u32, &[u8]), BadPattern> {
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return Err(BadPattern);
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let (r, n) = decode_rune(chunk);
    let rest = &chunk[n..];
    if (r == 0xfffd && n == 1) || rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, rest))
}

/// Go's `utf8.DecodeRune`: an invalid or cut sequence reads as U+FFFD, one
/// byte wide. `b` is never empty here.
fn decode_rune(b: &[u8]) -> (u32, usize) {
    let want = match b[0] {
        0x00..=0x7f => return (b[0] as u32, 1),
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return (0xfffd, 1),
    };
    match b.get(..want).map(std::str::from_utf8) {
        Some(Ok(s)) => (s.chars().next().map_or(0xfffd, |c| c as u32), want),
        _ => (0xfffd, 1),
    }
}

/// How one pattern matches, as patternmatcher's `compile` classifies it.
#[derive(Debug, Clone)]
enum Kind {
    Exact,
    /// `dir/**`: a plain prefix (the pattern minus its `**`).
    Prefix,
    /// `**...` with nothing special after: a plain suffix.
    Suffix,
    Regexp(regex::Regex),
    /// The generated regexp does not compile: matching is an error.
    Bad,
}

#[derive(Debug, Clone)]
struct Pattern {
    cleaned: String,
    exclusion: bool,
    kind: Kind,
}

/// patternmatcher's translation of a cleaned pattern into its match kind and,
/// for regexps, the expression text (what Go's `regexp.String()` returns).
fn compile(cleaned: &str) -> (Kind, String) {
    #[derive(PartialEq)]
    enum T {
        Exact,
        Prefix,
        Suffix,
        Regexp,
    }
    let mut re = String::from("^");
    let mut ty = T::Exact;
    // text/scanner skips a byte order mark at the very start.
    let mut it = cleaned
        .strip_prefix('\u{feff}')
        .unwrap_or(cleaned)
        .chars()
        .peekable();
    let mut i = 0;
    while let Some(ch) = it.next() {
        match ch {
            '*' if it.peek() == Some(&'*') => {
                it.next();
                if it.peek() == Some(&'/') {
                    it.next(); // `**/` is read as `**`
                }
                if it.peek().is_none() {
                    if ty == T::Exact {
                        ty = T::Prefix;
                    } else {
                        re.push_str(".*");
                        ty = T::Regexp;
                    }
                } else {
                    re.push_str("(.*/)?");
                    ty = T::Regexp;
                }
                if i == 0 {
                    ty = T::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                ty = T::Regexp;
            }
            '?' => {
                re.push_str("[^/]");
                ty = T::Regexp;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => match it.next() {
                Some(next) => {
                    re.push('\\');
                    re.push(next);
                    ty = T::Regexp;
                }
                None => re.push('\\'),
            },
            '[' | ']' => {
                re.push(ch);
                ty = T::Regexp;
            }
            c => re.push(c),
        }
        i += 1;
    }
    let kind = match ty {
        T::Exact => Kind::Exact,
        T::Prefix => Kind::Prefix,
        T::Suffix => Kind::Suffix,
        T::Regexp => {
            re.push('$');
            match goregexp::compile(&re) {
                Ok(r) => Kind::Regexp(r),
                Err(_) => Kind::Bad,
            }
        }
    };
    (kind, re)
}

impl Pattern {
    /// patternmatcher's `Pattern.match`, on bytes as Go compares strings.
    fn matches(&self, path: &str) -> Result<bool, IgnoreError> {
        let pat = self.cleaned.as_bytes();
        let p = path.as_bytes();
        Ok(match &self.kind {
            Kind::Exact => p == pat,
            Kind::Prefix => p.starts_with(&pat[..pat.len() - 2]),
            Kind::Suffix => {
                let suffix = &pat[2..];
                p.ends_with(suffix) || (suffix.first() == Some(&b'/') && p == &suffix[1..])
            }
            Kind::Regexp(re) => re.is_match(path),
            Kind::Bad => return Err(IgnoreError::Match),
        })
    }
}

/// Per-pattern results for a directory, handed to its entries
/// (patternmatcher's `MatchInfo`).
#[derive(Debug, Clone, Default)]
pub struct MatchInfo(Vec<bool>);

/// A compiled `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
    exclusions: bool,
    /// No exception pattern has wildcards (after a trailing `/*` or `/**`):
    /// fsutil can then tell which excluded directories to skip whole.
    only_prefix_exceptions: bool,
}

impl Matcher {
    /// Reads a `.dockerignore` (`ReadAll`) and compiles it (`New`).
    pub fn new(text: &str) -> Result<Matcher, IgnoreError> {
        Matcher::from_patterns(&read_all(text)?)
    }

    /// `patternmatcher.New`: trims and cleans each pattern again, takes a
    /// leading `!` as an exception, and refuses what `filepath.Match` refuses.
    pub fn from_patterns<S: AsRef<str>>(patterns: &[S]) -> Result<Matcher, IgnoreError> {
        let invalid = |reason: String| IgnoreError::Invalid {
            patterns: patterns.iter().map(|p| p.as_ref().to_string()).collect(),
            reason,
        };
        let mut m = Matcher {
            only_prefix_exceptions: true,
            ..Default::default()
        };
        for p in patterns {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let mut p = go_clean(p);
            let mut exclusion = false;
            if p.starts_with('!') {
                if p.len() == 1 {
                    return Err(invalid("illegal exclusion pattern: \"!\"".into()));
                }
                exclusion = true;
                p.remove(0);
                m.exclusions = true;
            }
            if go_match(&p, ".").is_err() {
                return Err(invalid(BAD_PATTERN.into()));
            }
            if exclusion && without_trailing_glob(&p).contains(['*', '[', ']', '?', '^', '\\']) {
                m.only_prefix_exceptions = false;
            }
            let (kind, _) = compile(&p);
            m.patterns.push(Pattern {
                cleaned: p,
                exclusion,
                kind,
            });
        }
        Ok(m)
    }

    /// Whether any pattern is an exception (`Exclusions()`).
    pub fn has_exceptions(&self) -> bool {
        self.exclusions
    }

    /// `MatchesOrParentMatches`: whether `path` (relative, `/`-separated) is
    /// excluded. Patterns are read in order, each able to flip the verdict
    /// when it matches `path` or one of its parent directories; an error
    /// means a pattern that could not be compiled had to be evaluated.
    pub fn excludes(&self, path: &str) -> Result<bool, IgnoreError> {
        let parent = go_dir(path);
        let dirs: Vec<&str> = parent.split('/').collect();
        let mut matched = false;
        for pat in &self.patterns {
            if pat.exclusion != matched {
                continue;
            }
            let mut hit = pat.matches(path)?;
            if !hit && parent != "." {
                hit = (1..=dirs.len()).any(|n| pat.matches(&dirs[..n].join("/")).unwrap_or(false));
            }
            if hit {
                matched = !pat.exclusion;
            }
        }
        Ok(matched)
    }

    /// `MatchesExact`: like [`Matcher::excludes`] without parent directories.
    pub fn excludes_exact(&self, path: &str) -> Result<bool, IgnoreError> {
        let mut matched = false;
        for pat in &self.patterns {
            if pat.exclusion != matched {
                continue;
            }
            if pat.matches(path)? {
                matched = !pat.exclusion;
            }
        }
        Ok(matched)
    }

    /// `MatchesUsingParentResults`, what the context walker uses: `parent` is
    /// the [`MatchInfo`] of the directory holding `path` (default at the
    /// root). A pattern that matched the directory matches its entries; the
    /// others are tried on `path` alone. This differs from
    /// [`Matcher::excludes`] when an exception was skipped for the directory:
    /// with `a/*` then `!a`, `a/f` stays excluded here.
    pub fn excludes_in(
        &self,
        path: &str,
        parent: &MatchInfo,
    ) -> Result<(bool, MatchInfo), IgnoreError> {
        let known = &parent.0;
        let no_context = known.is_empty();
        let parent_path = go_dir(path);
        let mut matched = false;
        let mut info = vec![false; self.patterns.len()];
        for (i, pat) in self.patterns.iter().enumerate() {
            let mut hit = known.get(i).copied().unwrap_or(false);
            if !hit {
                if pat.exclusion != matched {
                    continue;
                }
                hit = pat.matches(path)?;
                if !hit && no_context && parent_path != "." {
                    let dirs: Vec<&str> = parent_path.split('/').collect();
                    hit = (1..=dirs.len())
                        .any(|n| pat.matches(&dirs[..n].join("/")).unwrap_or(false));
                }
            }
            info[i] = hit;
            if hit {
                matched = !pat.exclusion;
            }
        }
        Ok((matched, MatchInfo(info)))
    }

    /// Whether the walker must still descend into the excluded directory
    /// `dir`: never without exceptions; always when an exception has
    /// wildcards; otherwise only when an exception names a path inside it.
    pub fn walks_excluded_dir(&self, dir: &str) -> bool {
        if !self.only_prefix_exceptions {
            return true;
        }
        if !self.exclusions {
            return false;
        }
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .filter(|p| p.exclusion)
            .any(|p| format!("{}/", without_trailing_glob(&p.cleaned)).starts_with(&dir_slash))
    }
}

/// fsutil's `patternWithoutTrailingGlob`.
fn without_trailing_glob(p: &str) -> &str {
    let p = p.strip_suffix("/**").unwrap_or(p);
    p.strip_suffix("/*").unwrap_or(p)
}
