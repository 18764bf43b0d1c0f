//! The slice of Go's `regexp` (RE2 syntax, `regexp.Compile`'s Perl flags)
//! that the expressions moby/patternmatcher builds from `.dockerignore`
//! patterns can reach, so those expressions behave here as they do in docker,
//! quirks included: a user `[...]` class is passed through to RE2 (so `\d`,
//! `[:alpha:]` and `\pL` inside a pattern mean what RE2 says), a bare `^` is
//! the start-of-text assertion, `.` never matches `\n` while negated classes
//! do, and a range such as `l-O` is an error.
//!
//! Parsing follows `regexp/syntax`; matching is a Thompson simulation (no
//! backtracking, so no pattern can make it exponential). Not reachable from
//! patternmatcher's output, hence refused: `|`, `(?` groups and `{n,m}`.
//! `\p` categories are exact for U+0000–U+00FF and approximated beyond it
//! with the standard library's Unicode properties (Go embeds full tables).

/// A regexp RE2 would reject (patternmatcher reports any such error as
/// `syntax error in pattern`); the text says which rule tripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub &'static str);

type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone, Copy)]
enum Assert {
    BeginText,
    EndText,
    WordBoundary,
    NotWordBoundary,
}

#[derive(Debug, Clone)]
enum Item {
    Range(u32, u32),
    /// A Perl or POSIX group (`\d`, `[:alpha:]`), possibly negated.
    Group(&'static [(u32, u32)], bool),
    /// `\pX` for a one-letter general category, possibly negated.
    Category(u8, bool),
}

#[derive(Debug, Clone)]
struct Class {
    items: Vec<Item>,
    negated: bool,
}

impl Class {
    fn literal(c: char) -> Class {
        Class {
            items: vec![Item::Range(c as u32, c as u32)],
            negated: false,
        }
    }

    fn matches(&self, c: char) -> bool {
        let r = c as u32;
        let hit = self.items.iter().any(|i| match i {
            Item::Range(lo, hi) => *lo <= r && r <= *hi,
            Item::Group(ranges, neg) => ranges.iter().any(|(lo, hi)| *lo <= r && r <= *hi) != *neg,
            Item::Category(cat, neg) => in_category(*cat, c) != *neg,
        });
        hit != self.negated
    }
}

#[derive(Debug, Clone)]
enum Node {
    Class(Class),
    Assert(Assert),
    Group(Vec<Node>),
    Star(Box<Node>),
    Plus(Box<Node>),
    Quest(Box<Node>),
}

#[derive(Debug, Clone)]
enum Inst {
    Class(Class),
    Assert(Assert),
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// A compiled expression; [`Regex::is_match`] is Go's `MatchString`
/// (unanchored search: anchors come from the expression itself).
#[derive(Debug, Clone)]
pub struct Regex {
    prog: Vec<Inst>,
}

impl Regex {
    pub fn new(expr: &str) -> Result<Regex> {
        let nodes = parse(expr)?;
        let mut prog = Vec::new();
        for n in &nodes {
            emit(n, &mut prog);
        }
        prog.push(Inst::Match);
        Ok(Regex { prog })
    }

    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let mut seen = vec![usize::MAX; self.prog.len()];
        let mut cur: Vec<usize> = Vec::new();
        let mut next: Vec<usize> = Vec::new();
        for pos in 0..=chars.len() {
            self.add(&mut cur, &mut seen, 0, pos, &chars);
            for &pc in &cur {
                match &self.prog[pc] {
                    Inst::Match => return true,
                    Inst::Class(c) if pos < chars.len() && c.matches(chars[pos]) => {
                        self.add(&mut next, &mut seen, pc + 1, pos + 1, &chars);
                    }
                    _ => {}
                }
            }
            cur.clear();
            std::mem::swap(&mut cur, &mut next);
        }
        false
    }

    /// Adds `pc` and everything reachable from it without consuming input
    /// (assertions evaluated at `pos`) to `list`, once per position.
    fn add(&self, list: &mut Vec<usize>, seen: &mut [usize], pc: usize, pos: usize, s: &[char]) {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if seen[pc] == pos {
                continue;
            }
            seen[pc] = pos;
            match &self.prog[pc] {
                Inst::Jmp(t) => stack.push(*t),
                Inst::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Inst::Assert(a) => {
                    let word = |i: Option<&char>| i.is_some_and(|c| is_word(*c));
                    let before = pos.checked_sub(1).and_then(|i| s.get(i));
                    let ok = match a {
                        Assert::BeginText => pos == 0,
                        Assert::EndText => pos == s.len(),
                        Assert::WordBoundary => word(before) != word(s.get(pos)),
                        Assert::NotWordBoundary => word(before) == word(s.get(pos)),
                    };
                    if ok {
                        stack.push(pc + 1);
                    }
                }
                Inst::Class(_) | Inst::Match => list.push(pc),
            }
        }
    }
}

fn emit(n: &Node, prog: &mut Vec<Inst>) {
    match n {
        Node::Class(c) => prog.push(Inst::Class(c.clone())),
        Node::Assert(a) => prog.push(Inst::Assert(*a)),
        Node::Group(ns) => ns.iter().for_each(|n| emit(n, prog)),
        Node::Star(sub) => {
            let split = prog.len();
            prog.push(Inst::Jmp(0)); // patched below
            emit(sub, prog);
            prog.push(Inst::Jmp(split));
            prog[split] = Inst::Split(split + 1, prog.len());
        }
        Node::Plus(sub) => {
            let start = prog.len();
            emit(sub, prog);
            prog.push(Inst::Split(start, prog.len() + 1));
        }
        Node::Quest(sub) => {
            let split = prog.len();
            prog.push(Inst::Jmp(0));
            emit(sub, prog);
            prog[split] = Inst::Split(split + 1, prog.len());
        }
    }
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn first(t: &str) -> Option<char> {
    t.chars().next()
}

fn parse(expr: &str) -> Result<Vec<Node>> {
    let mut stack: Vec<Vec<Node>> = vec![Vec::new()];
    let mut last_repeat = false;
    let mut t = expr;
    while let Some(c) = first(t) {
        let mut repeat = false;
        let top = stack.last_mut().expect("the outermost sequence stays");
        match c {
            '(' => {
                if t[1..].starts_with('?') {
                    return Err(Error("(? groups are not modelled"));
                }
                stack.push(Vec::new());
                t = &t[1..];
            }
            ')' => {
                if stack.len() < 2 {
                    return Err(Error("unexpected )"));
                }
                let inner = stack.pop().unwrap_or_default();
                stack
                    .last_mut()
                    .expect("checked above")
                    .push(Node::Group(inner));
                t = &t[1..];
            }
            '|' => return Err(Error("alternation is not modelled")),
            '^' => {
                top.push(Node::Assert(Assert::BeginText));
                t = &t[1..];
            }
            '$' => {
                top.push(Node::Assert(Assert::EndText));
                t = &t[1..];
            }
            '.' => {
                top.push(Node::Class(Class {
                    items: vec![Item::Range('\n' as u32, '\n' as u32)],
                    negated: true,
                }));
                t = &t[1..];
            }
            '[' => {
                let (class, rest) = parse_class(t)?;
                top.push(Node::Class(class));
                t = rest;
            }
            '*' | '+' | '?' => {
                let mut after = &t[1..];
                if after.starts_with('?') {
                    after = &after[1..]; // non-greedy: same set of matches
                }
                if last_repeat {
                    return Err(Error("invalid nested repetition operator"));
                }
                let Some(sub) = top.pop() else {
                    return Err(Error("missing argument to repetition operator"));
                };
                let sub = Box::new(sub);
                top.push(match c {
                    '*' => Node::Star(sub),
                    '+' => Node::Plus(sub),
                    _ => Node::Quest(sub),
                });
                repeat = true;
                t = after;
            }
            '{' => {
                if is_repeat(t) {
                    return Err(Error("counted repetition is not modelled"));
                }
                top.push(Node::Class(Class::literal('{')));
                t = &t[1..];
            }
            '\\' => t = parse_backslash(t, top)?,
            c => {
                top.push(Node::Class(Class::literal(c)));
                t = &t[c.len_utf8()..];
            }
        }
        last_repeat = repeat;
    }
    if stack.len() != 1 {
        return Err(Error("missing closing )"));
    }
    Ok(stack.pop().unwrap_or_default())
}

/// Whether `t` starts with `{n}`, `{n,}` or `{n,m}` (otherwise `{` is literal).
fn is_repeat(t: &str) -> bool {
    let body = &t[1..];
    let Some(end) = body.find('}') else {
        return false;
    };
    let mut parts = body[..end].splitn(2, ',');
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (parts.next(), parts.next()) {
        (Some(a), None) => digits(a),
        (Some(a), Some(b)) => digits(a) && (b.is_empty() || digits(b)),
        _ => false,
    }
}

/// A `\` outside a class: assertions, `\Q...\E`, classes, or one character.
fn parse_backslash<'a>(t: &'a str, top: &mut Vec<Node>) -> Result<&'a str> {
    match t.as_bytes().get(1) {
        Some(b'A') => top.push(Node::Assert(Assert::BeginText)),
        Some(b'z') => top.push(Node::Assert(Assert::EndText)),
        Some(b'b') => top.push(Node::Assert(Assert::WordBoundary)),
        Some(b'B') => top.push(Node::Assert(Assert::NotWordBoundary)),
        Some(b'C') => return Err(Error("invalid escape sequence")),
        Some(b'Q') => {
            let body = &t[2..];
            let (lit, rest) = match body.find("\\E") {
                Some(i) => (&body[..i], &body[i + 2..]),
                None => (body, ""),
            };
            top.extend(lit.chars().map(|c| Node::Class(Class::literal(c))));
            return Ok(rest);
        }
        _ => {
            if let Some((item, rest)) = unicode_class(t)? {
                top.push(Node::Class(Class {
                    items: vec![item],
                    negated: false,
                }));
                return Ok(rest);
            }
            if let Some((item, rest)) = perl_class(t) {
                top.push(Node::Class(Class {
                    items: vec![item],
                    negated: false,
                }));
                return Ok(rest);
            }
            let (c, rest) = parse_escape(t)?;
            top.push(Node::Class(Class::literal(c)));
            return Ok(rest);
        }
    }
    Ok(&t[2..])
}

/// One escaped character (`t` starts with `\`), as `regexp/syntax` reads it.
fn parse_escape(t: &str) -> Result<(char, &str)> {
    let rest = &t[1..];
    let Some(c) = first(rest) else {
        return Err(Error("trailing backslash at end of expression"));
    };
    let mut rest = &rest[c.len_utf8()..];
    let octal = |s: &str| {
        s.as_bytes()
            .first()
            .is_some_and(|b| (b'0'..=b'7').contains(b))
    };
    match c {
        '1'..='7' if !octal(rest) => {} // a backreference: unsupported
        '0'..='7' => {
            let mut r = c as u32 - '0' as u32;
            for _ in 1..3 {
                if !octal(rest) {
                    break;
                }
                r = r * 8 + (rest.as_bytes()[0] - b'0') as u32;
                rest = &rest[1..];
            }
            return Ok((char::from_u32(r).unwrap_or('\u{fffd}'), rest));
        }
        'x' => {
            let hex = |c: Option<char>| c.and_then(|c| c.to_digit(16));
            let x = first(rest);
            if x == Some('{') {
                let body = &rest[1..];
                if let Some(end) = body.find('}')
                    && end > 0
                    && let Ok(v) = u32::from_str_radix(&body[..end], 16)
                    && body[..end].bytes().all(|b| b.is_ascii_hexdigit())
                    && let Some(ch) = char::from_u32(v)
                {
                    return Ok((ch, &body[end + 1..]));
                }
            } else if let (Some(a), Some(b)) = (hex(x), hex(rest.chars().nth(1))) {
                let ch = char::from_u32(a * 16 + b).unwrap_or('\u{fffd}');
                return Ok((ch, &rest[2..]));
            }
        }
        'a' => return Ok(('\u{7}', rest)),
        'f' => return Ok(('\u{c}', rest)),
        'n' => return Ok(('\n', rest)),
        'r' => return Ok(('\r', rest)),
        't' => return Ok(('\t', rest)),
        'v' => return Ok(('\u{b}', rest)),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => return Ok((c, rest)),
        _ => {}
    }
    Err(Error("invalid escape sequence"))
}

/// `[...]` at the start of `s`.
fn parse_class(s: &str) -> Result<(Class, &str)> {
    let mut t = &s[1..];
    let mut negated = false;
    if t.starts_with('^') {
        negated = true; // Perl flags include ClassNL: `\n` stays matchable
        t = &t[1..];
    }
    let mut items = Vec::new();
    let mut first_item = true; // `]` is literal as the first character
    while t.is_empty() || !t.starts_with(']') || first_item {
        first_item = false;
        if t.len() > 2
            && t.starts_with("[:")
            && let Some(i) = t[2..].find(":]")
        {
            let name = &t[..i + 4];
            let Some(item) = posix_class(name) else {
                return Err(Error("invalid character class range"));
            };
            items.push(item);
            t = &t[i + 4..];
            continue;
        }
        if let Some((item, rest)) = unicode_class(t)? {
            items.push(item);
            t = rest;
            continue;
        }
        if let Some((item, rest)) = perl_class(t) {
            items.push(item);
            t = rest;
            continue;
        }
        let (lo, rest) = class_char(t)?;
        t = rest;
        let mut hi = lo;
        if t.len() >= 2 && t.starts_with('-') && !t[1..].starts_with(']') {
            let (h, rest) = class_char(&t[1..])?;
            if h < lo {
                return Err(Error("invalid character class range"));
            }
            hi = h;
            t = rest;
        }
        items.push(Item::Range(lo as u32, hi as u32));
    }
    Ok((Class { items, negated }, &t[1..]))
}

fn class_char(t: &str) -> Result<(char, &str)> {
    match first(t) {
        None => Err(Error("missing closing ]")),
        Some('\\') => parse_escape(t),
        Some(c) => Ok((c, &t[c.len_utf8()..])),
    }
}

const DIGIT: &[(u32, u32)] = &[(0x30, 0x39)];
const SPACE: &[(u32, u32)] = &[(0x09, 0x0a), (0x0c, 0x0d), (0x20, 0x20)];
const WORD: &[(u32, u32)] = &[(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)];

/// `\d \D \s \S \w \W` (ASCII, as in RE2).
fn perl_class(t: &str) -> Option<(Item, &str)> {
    let b = t.as_bytes();
    if b.len() < 2 || b[0] != b'\\' {
        return None;
    }
    let table = match b[1].to_ascii_lowercase() {
        b'd' => DIGIT,
        b's' => SPACE,
        b'w' => WORD,
        _ => return None,
    };
    Some((Item::Group(table, b[1].is_ascii_uppercase()), &t[2..]))
}

/// `[:name:]` and `[:^name:]`.
fn posix_class(name: &str) -> Option<Item> {
    let inner = &name[2..name.len() - 2];
    let (neg, inner) = match inner.strip_prefix('^') {
        Some(i) => (true, i),
        None => (false, inner),
    };
    let table: &'static [(u32, u32)] = match inner {
        "alnum" => &[(0x30, 0x39), (0x41, 0x5a), (0x61, 0x7a)],
        "alpha" => &[(0x41, 0x5a), (0x61, 0x7a)],
        "ascii" => &[(0x00, 0x7f)],
        "blank" => &[(0x09, 0x09), (0x20, 0x20)],
        "cntrl" => &[(0x00, 0x1f), (0x7f, 0x7f)],
        "digit" => DIGIT,
        "graph" => &[(0x21, 0x7e)],
        "lower" => &[(0x61, 0x7a)],
        "print" => &[(0x20, 0x7e)],
        "punct" => &[(0x21, 0x2f), (0x3a, 0x40), (0x5b, 0x60), (0x7b, 0x7e)],
        "space" => &[(0x09, 0x0d), (0x20, 0x20)],
        "upper" => &[(0x41, 0x5a)],
        "word" => WORD,
        "xdigit" => &[(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
        _ => return None,
    };
    Some(Item::Group(table, neg))
}

/// `\pX`, `\PX`, `\p{X}`, `\p{^X}` for the one-letter general categories
/// (the names Go 1.24 resolves; patternmatcher escapes `{`, so only the
/// one-letter form is reachable from a `.dockerignore`).
fn unicode_class(t: &str) -> Result<Option<(Item, &str)>> {
    if !(t.starts_with("\\p") || t.starts_with("\\P")) {
        return Ok(None);
    }
    let mut neg = t.as_bytes()[1] == b'P';
    let rest = &t[2..];
    let (mut name, rest) = match first(rest) {
        Some('{') => {
            let Some(end) = t.find('}') else {
                return Err(Error("invalid character class range"));
            };
            (&t[3..end], &t[end + 1..])
        }
        Some(c) => (&rest[..c.len_utf8()], &rest[c.len_utf8()..]),
        None => ("", rest),
    };
    if let Some(n) = name.strip_prefix('^') {
        neg = !neg;
        name = n;
    }
    match name {
        "C" | "L" | "M" | "N" | "P" | "S" | "Z" => {
            Ok(Some((Item::Category(name.as_bytes()[0], neg), rest)))
        }
        "Any" => Ok(Some((Item::Group(&[(0, 0x10ffff)], neg), rest))),
        _ => Err(Error("invalid character class range")),
    }
}

/// Membership in a one-letter Unicode general category: exact for
/// U+0000–U+00FF, from the standard library's properties beyond it.
fn in_category(cat: u8, c: char) -> bool {
    let r = c as u32;
    if r <= 0xff {
        return latin1_category(c) == cat;
    }
    let mark = matches!(r, 0x300..=0x36f | 0x1ab0..=0x1aff | 0x1dc0..=0x1dff | 0x20d0..=0x20ff | 0xfe20..=0xfe2f);
    let other = matches!(r, 0xe000..=0xf8ff | 0xf0000..=0x10ffff | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb);
    match cat {
        b'N' => c.is_numeric(),
        b'Z' => c.is_whitespace(),
        b'L' => c.is_alphabetic() && !c.is_numeric() && !mark,
        b'M' => mark,
        b'C' => other,
        _ => {
            let symbolish = !c.is_alphanumeric() && !c.is_whitespace() && !mark && !other;
            let punct = matches!(r, 0x2010..=0x2027 | 0x2030..=0x205e | 0x3001..=0x3003 | 0x3008..=0x3011 | 0x3014..=0x301f | 0xff01..=0xff0f);
            symbolish && (punct == (cat == b'P'))
        }
    }
}

fn latin1_category(c: char) -> u8 {
    match c {
        '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{ad}' => b'C',
        ' ' | '\u{a0}' => b'Z',
        '0'..='9' | '\u{b2}' | '\u{b3}' | '\u{b9}' | '\u{bc}'..='\u{be}' => b'N',
        'A'..='Z' | 'a'..='z' | '\u{aa}' | '\u{b5}' | '\u{ba}' => b'L',
        '\u{c0}'..='\u{d6}' | '\u{d8}'..='\u{f6}' | '\u{f8}'..='\u{ff}' => b'L',
        '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~' => b'S',
        '\u{a2}'..='\u{a6}' | '\u{a8}' | '\u{a9}' | '\u{ac}' | '\u{ae}'..='\u{b1}' => b'S',
        '\u{b4}' | '\u{b8}' | '\u{d7}' | '\u{f7}' => b'S',
        _ => b'P', // the rest of ASCII and ¡ § « ¶ · » ¿
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, s: &str) -> bool {
        Regex::new(re).unwrap().is_match(s)
    }

    #[test]
    fn go_regexp_cases() {
        // (expression, text, matches) — behaviour of Go's regexp.MatchString.
        let cases: &[(&str, &str, bool)] = &[
            ("^a[^/]*$", "abc", true),
            ("^a[^/]*$", "ab/c", false),
            ("^(.*/)?b$", "b", true),
            ("^(.*/)?b$", "x/y/b", true),
            ("^(.*/)?b$", "x\n/b", false), // `.` stops at a newline
            ("^[^/]*$", "x\ny", true),     // a negated class does not
            ("^a^b$", "ab", false),
            ("^^[^/]*$", "abc", true),
            ("^[[^/]*]$", "[^]", true),
            ("^[[^/]*]$", "x]", false),
            ("^a\\d$", "a7", true),
            ("^a\\d$", "ad", false),
            ("^[[:digit:]x]$", "x", true),
            ("^[[:^alpha:]]$", "1", true),
            ("^[\\]a]$", "]", true),
            ("^[]a]$", "]", true),
            ("^[a-]$", "-", true),
            ("^\\x41$", "A", true),
            ("^\\101$", "A", true),
            ("^\\Qa.b$", "a.b$", true),
            ("^\\Qa.b\\E.$", "a.bc", true),
            ("^a\\b$", "a", true),
            ("^\\pL\\PL$", "é1", true),
            ("^\\pN$", "٣", true),
            ("b", "abc", true), // unanchored search
        ];
        for (re, s, want) in cases {
            assert_eq!(m(re, s), *want, "{re:?} on {s:?}");
        }
    }

    #[test]
    fn go_regexp_errors() {
        for re in [
            "^[Local-Only]$",
            "^a\\q$",
            "^[[:foo:]]$",
            "^[a",
            "^(a",
            "^a)",
            "(*)",
            "a**",
            "\\C",
            "\\8",
            "\\pX",
            "[\\b]",
        ] {
            assert!(Regex::new(re).is_err(), "{re:?} should not compile");
        }
    }
}
