//! `.dockerignore` matching with moby/patternmatcher's rules: patterns are
//! cleaned (leading `/` and `./` dropped), `*` and `?` do not cross `/`, `**`
//! matches any number of directories, `!` re-includes, the last matching
//! pattern wins, and a pattern that matches a directory excludes everything
//! below it. Written by hand: no crate implements docker's semantics
//! (gitignore crates differ on `*`, `!` and anchoring).

/// A compiled `.dockerignore`.
#[derive(Debug, Default)]
pub struct Matcher {
    patterns: Vec<(bool, Vec<String>)>,
}

impl Matcher {
    pub fn new(text: &str) -> Matcher {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (neg, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let cleaned = crate::layer::clean_path(pat);
            if cleaned.is_empty() {
                continue;
            }
            patterns.push((neg, cleaned.split('/').map(String::from).collect()));
        }
        Matcher { patterns }
    }

    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|(n, _)| *n)
    }

    /// Whether `path` (relative, `/`-separated) is excluded: the last pattern
    /// matching the path or one of its parent directories decides.
    pub fn excludes(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        let mut excluded = false;
        for (neg, pat) in &self.patterns {
            let hit = (1..=parts.len()).any(|n| match_parts(pat, &parts[..n]));
            if hit {
                excluded = !neg;
            }
        }
        excluded
    }
}

fn match_parts(pat: &[String], parts: &[&str]) -> bool {
    match pat.first() {
        None => parts.is_empty(),
        Some(p) if p == "**" => (0..=parts.len()).any(|i| match_parts(&pat[1..], &parts[i..])),
        Some(p) => {
            !parts.is_empty() && glob_match(p, parts[0]) && match_parts(&pat[1..], &parts[1..])
        }
    }
}

/// Matches one path (or component) against a glob where `*` and `?` do not
/// cross `/`, with `[...]` classes (`^` or `!` negates) and `\` escapes.
pub fn glob_match(pat: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != '/')
                .any(|i| go(&p[1..], &s[i..])),
            Some('?') => !s.is_empty() && s[0] != '/' && go(&p[1..], &s[1..]),
            Some('[') => {
                let Some(end) = p.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                    return !s.is_empty() && s[0] == '[' && go(&p[1..], &s[1..]);
                };
                if s.is_empty() {
                    return false;
                }
                let class = &p[1..end];
                let (neg, class) = match class.first() {
                    Some('^') | Some('!') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= s[0] && s[0] <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == s[0];
                        i += 1;
                    }
                }
                hit != neg && go(&p[end + 1..], &s[1..])
            }
            Some('\\') if p.len() > 1 => !s.is_empty() && s[0] == p[1] && go(&p[2..], &s[1..]),
            Some(c) => !s.is_empty() && s[0] == *c && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    go(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patternmatcher_rules() {
        let m = Matcher::new("# comment\n*.md\n!README.md\n/node_modules\n**/*.log\ntemp?\n");
        assert!(m.excludes("CHANGES.md"));
        assert!(!m.excludes("README.md"));
        assert!(!m.excludes("docs/CHANGES.md"), "* does not cross /");
        assert!(m.excludes("node_modules"));
        assert!(
            m.excludes("node_modules/x/y.js"),
            "a matched dir excludes its contents"
        );
        assert!(m.excludes("a/b/c.log"));
        assert!(m.excludes("x.log"), "** matches zero directories");
        assert!(m.excludes("temp1"));
        assert!(!m.excludes("temp12"));
        assert!(!m.excludes("src/main.go"));
    }

    #[test]
    fn last_matching_pattern_wins() {
        let m = Matcher::new("!keep.txt\n*.txt\n");
        assert!(m.excludes("keep.txt"));
        let m = Matcher::new("*.txt\n!keep.txt\n");
        assert!(!m.excludes("keep.txt"));
    }

    #[test]
    fn glob_classes_and_escapes() {
        assert!(glob_match("file[0-9].txt", "file3.txt"));
        assert!(!glob_match("file[^0-9].txt", "file3.txt"));
        assert!(glob_match("a\\*b", "a*b"));
        assert!(!glob_match("a\\*b", "axb"));
    }
}
