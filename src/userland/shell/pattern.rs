//! Shell pattern matching (`case`, `${v#p}`, pathname expansion): `*`, `?`,
//! bracket expressions with ranges, negation and `[:class:]`, and `\`
//! quoting. Quoted parts of a word reach here escaped with `\`.

/// One parsed element of a pattern.
#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Lit(char),
    Any,
    Star,
    Class { neg: bool, items: Vec<Item> },
}

#[derive(Clone, Debug, PartialEq)]
enum Item {
    Ch(char),
    Range(char, char),
    Named(String),
}

fn parse(p: &str) -> Vec<Tok> {
    let cs: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '\\' if i + 1 < cs.len() => {
                out.push(Tok::Lit(cs[i + 1]));
                i += 2;
            }
            '*' => {
                if out.last() != Some(&Tok::Star) {
                    out.push(Tok::Star);
                }
                i += 1;
            }
            '?' => {
                out.push(Tok::Any);
                i += 1;
            }
            '[' => match class(&cs, i + 1) {
                Some((t, next)) => {
                    out.push(t);
                    i = next;
                }
                None => {
                    out.push(Tok::Lit('['));
                    i += 1;
                }
            },
            c => {
                out.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    out
}

/// Parses a bracket expression starting after `[`.
fn class(cs: &[char], mut i: usize) -> Option<(Tok, usize)> {
    let mut neg = false;
    if i < cs.len() && (cs[i] == '!' || cs[i] == '^') {
        neg = true;
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    while i < cs.len() {
        let c = cs[i];
        if c == ']' && !first {
            return Some((Tok::Class { neg, items }, i + 1));
        }
        first = false;
        if c == '[' && cs.get(i + 1) == Some(&':') {
            let rest: String = cs[i + 2..].iter().collect();
            if let Some(end) = rest.find(":]") {
                items.push(Item::Named(rest[..end].to_string()));
                i += 2 + rest[..end].chars().count() + 2;
                continue;
            }
        }
        let (c, next) = if c == '\\' && i + 1 < cs.len() {
            (cs[i + 1], i + 2)
        } else {
            (c, i + 1)
        };
        if cs.get(next) == Some(&'-') && next + 1 < cs.len() && cs[next + 1] != ']' {
            let (hi, after) = if cs[next + 1] == '\\' && next + 2 < cs.len() {
                (cs[next + 2], next + 3)
            } else {
                (cs[next + 1], next + 2)
            };
            items.push(Item::Range(c, hi));
            i = after;
        } else {
            items.push(Item::Ch(c));
            i = next;
        }
    }
    None
}

fn named(n: &str, c: char) -> bool {
    match n {
        "alpha" => c.is_ascii_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "alnum" => c.is_ascii_alphanumeric(),
        "upper" => c.is_ascii_uppercase(),
        "lower" => c.is_ascii_lowercase(),
        "space" => c.is_ascii_whitespace(),
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "cntrl" => c.is_ascii_control(),
        "print" => !c.is_control(),
        "graph" => !c.is_control() && c != ' ',
        _ => false,
    }
}

fn class_has(neg: bool, items: &[Item], c: char) -> bool {
    let hit = items.iter().any(|it| match it {
        Item::Ch(x) => *x == c,
        Item::Range(a, b) => *a <= c && c <= *b,
        Item::Named(n) => named(n, c),
    });
    hit != neg
}

fn matches_toks(t: &[Tok], s: &[char]) -> bool {
    // Iterative matcher with single-star backtracking.
    let (mut ti, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if ti < t.len() {
            match &t[ti] {
                Tok::Star => {
                    star = Some((ti, si));
                    ti += 1;
                    continue;
                }
                Tok::Any => {
                    ti += 1;
                    si += 1;
                    continue;
                }
                Tok::Lit(c) if *c == s[si] => {
                    ti += 1;
                    si += 1;
                    continue;
                }
                Tok::Class { neg, items } if class_has(*neg, items, s[si]) => {
                    ti += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((st, ss)) => {
                ti = st + 1;
                si = ss + 1;
                star = Some((st, ss + 1));
            }
            None => return false,
        }
    }
    t[ti..].iter().all(|x| *x == Tok::Star)
}

/// Whether `s` matches the whole pattern `p`.
pub fn matches(p: &str, s: &str) -> bool {
    let t = parse(p);
    let s: Vec<char> = s.chars().collect();
    matches_toks(&t, &s)
}

/// Whether a pattern has an unquoted `*`, `?` or bracket expression.
pub fn has_magic(p: &str) -> bool {
    parse(p).iter().any(|t| !matches!(t, Tok::Lit(_)))
}

/// The pattern's literal text with escapes removed.
pub fn unescape(p: &str) -> String {
    let mut out = String::new();
    let mut it = p.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            } else {
                out.push('\\');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Removes the smallest or largest prefix of `s` matching `p`.
pub fn strip_prefix(s: &str, p: &str, largest: bool) -> String {
    let t = parse(p);
    let cs: Vec<char> = s.chars().collect();
    let range: Box<dyn Iterator<Item = usize>> = if largest {
        Box::new((0..=cs.len()).rev())
    } else {
        Box::new(0..=cs.len())
    };
    for n in range {
        if matches_toks(&t, &cs[..n]) {
            return cs[n..].iter().collect();
        }
    }
    s.to_string()
}

/// Removes the smallest or largest suffix of `s` matching `p`.
pub fn strip_suffix(s: &str, p: &str, largest: bool) -> String {
    let t = parse(p);
    let cs: Vec<char> = s.chars().collect();
    let range: Box<dyn Iterator<Item = usize>> = if largest {
        Box::new(0..=cs.len())
    } else {
        Box::new((0..=cs.len()).rev())
    };
    for n in range {
        if matches_toks(&t, &cs[n..]) {
            return cs[..n].iter().collect();
        }
    }
    s.to_string()
}

/// bash `${v/p/r}` (`all`: `//`; `anchor`: `Some(true)` prefix `#`,
/// `Some(false)` suffix `%`).
pub fn replace(s: &str, p: &str, r: &str, all: bool, anchor: Option<bool>) -> String {
    let t = parse(p);
    let cs: Vec<char> = s.chars().collect();
    match anchor {
        Some(true) => {
            for n in (0..=cs.len()).rev() {
                if matches_toks(&t, &cs[..n]) {
                    return format!("{r}{}", cs[n..].iter().collect::<String>());
                }
            }
            return s.to_string();
        }
        Some(false) => {
            for n in 0..=cs.len() {
                if matches_toks(&t, &cs[n..]) {
                    return format!("{}{r}", cs[..n].iter().collect::<String>());
                }
            }
            return s.to_string();
        }
        None => {}
    }
    let mut out = String::new();
    let mut i = 0;
    let mut done = false;
    while i < cs.len() {
        if !done {
            let mut hit = None;
            for n in (i + 1..=cs.len()).rev() {
                if matches_toks(&t, &cs[i..n]) {
                    hit = Some(n);
                    break;
                }
            }
            if let Some(n) = hit {
                out.push_str(r);
                i = n;
                if !all {
                    done = true;
                }
                continue;
            }
        }
        out.push(cs[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_fnmatch_does() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.txd"));
        assert!(matches("a?c", "abc"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[!a-c]x", "bx"));
        assert!(matches("[[:digit:]]*", "1abc"));
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "a"));
        assert!(matches("[", "["));
        assert!(matches("*", ""));
    }

    #[test]
    fn prefixes_and_suffixes_strip() {
        assert_eq!(strip_prefix("a/b/c", "*/", false), "b/c");
        assert_eq!(strip_prefix("a/b/c", "*/", true), "c");
        assert_eq!(strip_suffix("x.tar.gz", ".*", false), "x.tar");
        assert_eq!(strip_suffix("x.tar.gz", ".*", true), "x");
        assert_eq!(replace("aXbXc", "X", "-", true, None), "a-b-c");
        assert_eq!(replace("aXbXc", "X", "-", false, None), "a-bXc");
    }
}
