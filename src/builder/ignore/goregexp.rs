//! Go `regexp` expressions (RE2 syntax with `regexp.Compile`'s Perl flags)
//! run on the `regex` crate. Both are RE2 engines with the same defaults
//! here (`^`/`$` at the ends of the text only, `.` never matching `\n` while
//! negated classes do, POSIX classes ASCII, `\pL` Unicode), but their syntax
//! parts ways on text moby/patternmatcher passes through from a
//! `.dockerignore` (`[...]` and `\` reach RE2 as written), so each expression
//! is read as Go's `regexp/syntax` reads it, quirks included, and spelt
//! anew for `regex`:
//!
//! * Inside a class, `[` is a member in Go (`[*]` becomes `[[^/]*]`: the
//!   class `[[^/]`, a star, a `]`); `regex` nests classes and has `&&`,
//!   `--`, `~~` operators. Every member is therefore escaped, and
//!   `[:name:]` is found the way Go finds it (the closing `:]` may lie past
//!   the class: `[[:*:]]` is an unknown class name, an error).
//! * Go's `\d \s \w \b \B` are ASCII; `regex`'s are Unicode, and its ASCII
//!   `\s` also takes `\v`: they become explicit ASCII classes and
//!   `(?-u:\b)`.
//! * Go's `\pC` is Cc, Cf, Co and Cs; `regex`'s also holds unassigned code
//!   points (Cn).
//! * `\Q...\E` is unknown to `regex`: its text becomes escaped literals.
//! * Go refuses a repeated repetition (`a**`) and `\C`; `regex` takes
//!   `a**`.
//!
//! Not reachable from patternmatcher's output (it escapes `(){}|` and only
//! writes `(.*/)?` itself), hence refused: `|`, `(?` groups, `{n,m}` and
//! `\p{Name}`. Differences left: the Unicode version behind `\pL` and the
//! like (`regex-syntax`'s, against the Go release's), and the size limits:
//! `regex` sizes its compiled automaton, Go its program, so a line with
//! thousands of Unicode classes compiles in Go and is refused here (see
//! [`SIZE_LIMIT`]).

use regex::{Regex, RegexBuilder};
use std::fmt::Write as _;

/// A Go regexp that `regexp.Compile` rejects (or that is out of scope, see
/// the module doc); the text says which rule tripped. patternmatcher
/// reports any of them as `syntax error in pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub &'static str);

type Result<T> = std::result::Result<T, Error>;

/// The compiled-automaton budget (the default is 10 MiB): a whole 64 KiB
/// line of `?` (the costliest wildcard) takes about 64 MiB. Only lines with
/// thousands of Unicode classes (`\pL`) exceed it, where Go goes on.
const SIZE_LIMIT: usize = 256 << 20;

/// `regexp.Compile(expr)`, ready for Go's `MatchString` ([`Regex::is_match`]:
/// an unanchored search whose anchors come from the expression).
pub fn compile(expr: &str) -> Result<Regex> {
    let rust = translate(expr)?;
    RegexBuilder::new(&rust)
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => Error("expression too large"),
            _ => Error("the regex crate refused the translation"),
        })
}

/// The `regex` spelling of the Go expression `expr`.
pub fn translate(expr: &str) -> Result<String> {
    let mut out = String::new();
    // Where each open group starts in `out`.
    let mut groups: Vec<usize> = Vec::new();
    // Where the item a repetition would apply to starts in `out` (Go's top
    // of stack); `None` at the start and after `(`.
    let mut last: Option<usize> = None;
    let mut last_repeat = false;
    let mut t = expr;
    while let Some(c) = t.chars().next() {
        let start = out.len();
        let mut repeat = false;
        match c {
            '(' => {
                if t[1..].starts_with('?') {
                    return Err(Error("(? groups are not reachable"));
                }
                groups.push(start);
                out.push_str("(?:");
                last = None;
                t = &t[1..];
            }
            ')' => {
                let Some(open) = groups.pop() else {
                    return Err(Error("unexpected )"));
                };
                out.push(')');
                last = Some(open);
                t = &t[1..];
            }
            '|' => return Err(Error("alternation is not reachable")),
            '^' | '$' | '.' => {
                out.push(c);
                last = Some(start);
                t = &t[1..];
            }
            '[' => {
                t = class(t, &mut out)?;
                last = Some(start);
            }
            '*' | '+' | '?' => {
                let mut after = &t[1..];
                let lazy = after.starts_with('?');
                if lazy {
                    after = &after[1..];
                }
                if last_repeat {
                    return Err(Error("invalid nested repetition operator"));
                }
                let Some(sub) = last else {
                    return Err(Error("missing argument to repetition operator"));
                };
                out.insert_str(sub, "(?:");
                out.push(')');
                out.push(c);
                if lazy {
                    out.push('?');
                }
                repeat = true;
                t = after;
            }
            '{' => {
                if is_repeat(t) {
                    return Err(Error("counted repetition is not reachable"));
                }
                push_literal(&mut out, '{');
                last = Some(start);
                t = &t[1..];
            }
            '\\' => {
                t = match t.as_bytes().get(1) {
                    Some(b'A') => {
                        out.push_str(r"\A");
                        &t[2..]
                    }
                    Some(b'z') => {
                        out.push_str(r"\z");
                        &t[2..]
                    }
                    Some(b'b') => {
                        out.push_str(r"(?-u:\b)");
                        &t[2..]
                    }
                    Some(b'B') => {
                        out.push_str(r"(?-u:\B)");
                        &t[2..]
                    }
                    Some(b'C') => return Err(Error("invalid escape sequence")),
                    Some(b'Q') => {
                        // Literal text up to `\E`; a repetition applies to
                        // its last character, and to what came before when
                        // it is empty.
                        let (text, rest) = t[2..].split_once(r"\E").unwrap_or((&t[2..], ""));
                        for ch in text.chars() {
                            last = Some(out.len());
                            push_literal(&mut out, ch);
                        }
                        last_repeat = false;
                        t = rest;
                        continue;
                    }
                    Some(b'p' | b'P') => unicode_class(t, &mut out)?,
                    _ => match perl_class(t) {
                        Some((class, rest)) => {
                            out.push_str(class);
                            rest
                        }
                        None => {
                            let (ch, rest) = escape(t)?;
                            push_literal(&mut out, ch);
                            rest
                        }
                    },
                };
                last = Some(start);
            }
            c => {
                push_literal(&mut out, c);
                last = Some(start);
                t = &t[c.len_utf8()..];
            }
        }
        last_repeat = repeat;
    }
    if !groups.is_empty() {
        return Err(Error("missing closing )"));
    }
    Ok(out)
}

/// `c` as a `regex` literal, inside or outside a class.
fn push_literal(out: &mut String, c: char) {
    if c.is_control() || c.is_whitespace() {
        let _ = write!(out, "\\x{{{:X}}}", c as u32);
    } else {
        out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
    }
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

/// One escaped character (`t` starts with `\`), as `regexp/syntax`'s
/// `parseEscape` reads it.
fn escape(t: &str) -> Result<(char, &str)> {
    let rest = &t[1..];
    let Some(c) = rest.chars().next() else {
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
            let x = rest.chars().next();
            if x == Some('{') {
                let body = &rest[1..];
                if let Some(end) = body.find('}')
                    && end > 0
                    && body[..end].bytes().all(|b| b.is_ascii_hexdigit())
                    && let Ok(v) = u32::from_str_radix(&body[..end], 16)
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

/// The class `[...]` at the start of `s`, written to `out`; returns the rest.
fn class<'a>(s: &'a str, out: &mut String) -> Result<&'a str> {
    let mut t = &s[1..];
    out.push('[');
    if let Some(rest) = t.strip_prefix('^') {
        out.push('^'); // the Perl flags include ClassNL: `\n` stays matchable
        t = rest;
    }
    let mut first = true; // `]` is a member as the first character
    while first || !t.starts_with(']') {
        first = false;
        if t.len() > 2
            && t.starts_with("[:")
            && let Some(i) = t[2..].find(":]")
        {
            // Go looks for the `:]` anywhere ahead, even past the class.
            let name = &t[..i + 4];
            let inner = &name[2..name.len() - 2];
            if !POSIX.contains(&inner.strip_prefix('^').unwrap_or(inner)) {
                return Err(Error("invalid character class range"));
            }
            out.push_str(name); // the same spelling and ASCII sets in `regex`
            t = &t[i + 4..];
            continue;
        }
        if t.starts_with(r"\p") || t.starts_with(r"\P") {
            t = unicode_class(t, out)?;
            continue;
        }
        if let Some((class, rest)) = perl_class(t) {
            out.push_str(class);
            t = rest;
            continue;
        }
        let (lo, rest) = class_char(t)?;
        t = rest;
        push_literal(out, lo);
        if t.len() >= 2 && t.starts_with('-') && !t[1..].starts_with(']') {
            let (hi, rest) = class_char(&t[1..])?;
            if hi < lo {
                return Err(Error("invalid character class range"));
            }
            out.push('-');
            push_literal(out, hi);
            t = rest;
        }
    }
    out.push(']');
    Ok(&t[1..])
}

fn class_char(t: &str) -> Result<(char, &str)> {
    match t.chars().next() {
        None => Err(Error("missing closing ]")),
        Some('\\') => escape(t),
        Some(c) => Ok((c, &t[c.len_utf8()..])),
    }
}

/// Go's POSIX class names, all ASCII (`[:^name:]` negates).
const POSIX: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// `\d \D \s \S \w \W` as Go defines them (ASCII; `\s` without `\v`), each
/// a class that also stands nested inside another.
fn perl_class(t: &str) -> Option<(&'static str, &str)> {
    let class = match t.as_bytes().get(..2)? {
        br"\d" => "[0-9]",
        br"\D" => "[^0-9]",
        br"\s" => r"[\t\n\x0C\r\x20]",
        br"\S" => r"[^\t\n\x0C\r\x20]",
        br"\w" => "[0-9A-Za-z_]",
        br"\W" => "[^0-9A-Za-z_]",
        _ => return None,
    };
    Some((class, &t[2..]))
}

/// `\pX` or `\PX` (`t` starts with one) for the one-letter general
/// categories, the only names Go resolves without braces (patternmatcher
/// escapes `{`, so the braced form is out of reach).
fn unicode_class<'a>(t: &'a str, out: &mut String) -> Result<&'a str> {
    let negated = t.as_bytes()[1] == b'P';
    let class = match t[2..].chars().next() {
        Some('{') => return Err(Error("\\p{...} is not reachable")),
        // Go's C is Cc, Cf, Co and Cs (never in a `&str`), without the
        // unassigned code points (Cn) that `regex`'s C holds.
        Some('C') if negated => r"[^\p{Cc}\p{Cf}\p{Co}]",
        Some('C') => r"[\p{Cc}\p{Cf}\p{Co}]",
        Some(c @ ('L' | 'M' | 'N' | 'P' | 'S' | 'Z')) => {
            let _ = write!(out, r"\{}{c}", if negated { 'P' } else { 'p' });
            return Ok(&t[3..]);
        }
        _ => return Err(Error("invalid character class range")),
    };
    out.push_str(class);
    Ok(&t[3..])
}
