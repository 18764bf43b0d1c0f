//! Conformance tables: the cases of moby/patternmatcher's tests
//! (`patternmatcher_test.go`, `ignorefile/ignorefile_test.go`), Go's
//! `filepath.Match` tests, fsutil's walker rule, and docker quirks that follow
//! from them, each row checked against this port.

use super::*;
use proptest::prelude::*;

/// How a path fares against one pattern: not at all, by the pattern itself,
/// or only through a parent directory.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Hit {
    No,
    Exact,
    Parent,
}
use Hit::*;

/// (pattern, path, outcome) from `TestMatches`, plus its Unix-only rows.
const MATCHES: &[(&str, &str, Hit)] = &[
    ("**", "file", Exact),
    ("**", "file/", Exact),
    ("**/", "file", Exact),
    ("**/", "file/", Exact),
    ("**", "/", Exact),
    ("**/", "/", Exact),
    ("**", "dir/file", Exact),
    ("**/", "dir/file", Exact),
    ("**", "dir/file/", Exact),
    ("**/", "dir/file/", Exact),
    ("**/**", "dir/file", Exact),
    ("**/**", "dir/file/", Exact),
    ("dir/**", "dir/file", Exact),
    ("dir/**", "dir/file/", Exact),
    ("dir/**", "dir/dir2/file", Exact),
    ("dir/**", "dir/dir2/file/", Exact),
    ("**/dir", "dir", Exact),
    ("**/dir", "dir/file", Parent),
    ("**/dir2/*", "dir/dir2/file", Exact),
    ("**/dir2/*", "dir/dir2/file/", Parent),
    ("**/dir2/**", "dir/dir2/dir3/file", Exact),
    ("**/dir2/**", "dir/dir2/dir3/file/", Exact),
    ("**file", "file", Exact),
    ("**file", "dir/file", Exact),
    ("**/file", "dir/file", Exact),
    ("**file", "dir/dir/file", Exact),
    ("**/file", "dir/dir/file", Exact),
    ("**/file*", "dir/dir/file", Exact),
    ("**/file*", "dir/dir/file.txt", Exact),
    ("**/file*txt", "dir/dir/file.txt", Exact),
    ("**/file*.txt", "dir/dir/file.txt", Exact),
    ("**/file*.txt*", "dir/dir/file.txt", Exact),
    ("**/**/*.txt", "dir/dir/file.txt", Exact),
    ("**/**/*.txt2", "dir/dir/file.txt", No),
    ("**/*.txt", "file.txt", Exact),
    ("**/**/*.txt", "file.txt", Exact),
    ("a**/*.txt", "a/file.txt", Exact),
    ("a**/*.txt", "a/dir/file.txt", Exact),
    ("a**/*.txt", "a/dir/dir/file.txt", Exact),
    ("a/*.txt", "a/dir/file.txt", No),
    ("a/*.txt", "a/file.txt", Exact),
    ("a/*.txt**", "a/file.txt", Exact),
    ("a[b-d]e", "ae", No),
    ("a[b-d]e", "ace", Exact),
    ("a[b-d]e", "aae", No),
    ("a[^b-d]e", "aze", Exact),
    (".*", ".foo", Exact),
    (".*", "foo", No),
    ("abc.def", "abcdef", No),
    ("abc.def", "abc.def", Exact),
    ("abc.def", "abcZdef", No),
    ("abc?def", "abcZdef", Exact),
    ("abc?def", "abcdef", No),
    ("**/foo/bar", "foo/bar", Exact),
    ("**/foo/bar", "dir/foo/bar", Exact),
    ("**/foo/bar", "dir/dir2/foo/bar", Exact),
    ("abc/**", "abc", No),
    ("abc/**", "abc/def", Exact),
    ("abc/**", "abc/def/ghi", Exact),
    ("**/.foo", ".foo", Exact),
    ("**/.foo", "bar.foo", No),
    ("a(b)c/def", "a(b)c/def", Exact),
    ("a(b)c/def", "a(b)c/xyz", No),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", Exact),
    (
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Exact,
    ),
    (
        "dist/*.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Exact,
    ),
    ("a\\\\", "a\\", Exact),
    ("a\\*b", "a*b", Exact),
];

/// (patterns, path, excluded) from `TestMatches`' multi-pattern rows and the
/// single-purpose tests around it (`Matches(file, patterns)`: the path is
/// cleaned first and `.` is never excluded).
const MULTI: &[(&[&str], &str, bool)] = &[
    (&["**", "!util/docker/web"], "util/docker/web/foo", false),
    (
        &["**", "!util/docker/web", "util/docker/web/foo"],
        "util/docker/web/foo",
        true,
    ),
    (
        &[
            "**",
            "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        ],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        false,
    ),
    (
        &["**", "!dist/*.whl"],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        false,
    ),
    (&["*"], "fileutils.go", true),
    (&["*.go"], "fileutils.go", true),
    (&["!fileutils.go", "*.go"], "fileutils.go", true),
    (&["docs", "!docs/README.md"], "docs/README.md", false),
    (&["docs/", "!docs/README.md"], "docs/README.md", false),
    (&["docs/*", "!docs/README.md"], "docs/README.md", false),
    (&["*.go", "!fileutils.go"], "fileutils.go", false),
    (&["*.go"], ".", false),
    (&[], "/any/path/there", false),
];

/// (pattern, name, Go's `filepath.Match`, patternmatcher's `Matches`) from
/// Go's `match_test.go` and patternmatcher's copy of it; `None` is
/// `ErrBadPattern`. The two differ on `a*` against `ab/c`: the ignore rules
/// also try the parent directory `ab`.
const GO_MATCH: &[(&str, &str, Option<bool>, Option<bool>)] = &[
    ("abc", "abc", Some(true), Some(true)),
    ("*", "abc", Some(true), Some(true)),
    ("*c", "abc", Some(true), Some(true)),
    ("a*", "a", Some(true), Some(true)),
    ("a*", "abc", Some(true), Some(true)),
    ("a*", "ab/c", Some(false), Some(true)),
    ("a*/b", "abc/b", Some(true), Some(true)),
    ("a*/b", "a/c/b", Some(false), Some(false)),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", Some(true), Some(true)),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Some(true), Some(true)),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Some(false), Some(false)),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Some(false), Some(false)),
    ("a*b?c*x", "abxbbxdbxebxczzx", Some(true), Some(true)),
    ("a*b?c*x", "abxbbxdbxebxczzy", Some(false), Some(false)),
    ("ab[c]", "abc", Some(true), Some(true)),
    ("ab[b-d]", "abc", Some(true), Some(true)),
    ("ab[e-g]", "abc", Some(false), Some(false)),
    ("ab[^c]", "abc", Some(false), Some(false)),
    ("ab[^b-d]", "abc", Some(false), Some(false)),
    ("ab[^e-g]", "abc", Some(true), Some(true)),
    ("a\\*b", "a*b", Some(true), Some(true)),
    ("a\\*b", "ab", Some(false), Some(false)),
    ("a?b", "a☺b", Some(true), Some(true)),
    ("a[^a]b", "a☺b", Some(true), Some(true)),
    ("a???b", "a☺b", Some(false), Some(false)),
    ("a[^a][^a][^a]b", "a☺b", Some(false), Some(false)),
    ("[a-ζ]*", "α", Some(true), Some(true)),
    ("*[a-ζ]", "A", Some(false), Some(false)),
    ("a?b", "a/b", Some(false), Some(false)),
    ("a*b", "a/b", Some(false), Some(false)),
    ("[\\]a]", "]", Some(true), Some(true)),
    ("[\\-]", "-", Some(true), Some(true)),
    ("[x\\-]", "x", Some(true), Some(true)),
    ("[x\\-]", "-", Some(true), Some(true)),
    ("[x\\-]", "z", Some(false), Some(false)),
    ("[\\-x]", "x", Some(true), Some(true)),
    ("[\\-x]", "-", Some(true), Some(true)),
    ("[\\-x]", "a", Some(false), Some(false)),
    ("[]a]", "]", None, None),
    ("[-]", "-", None, None),
    ("[x-]", "x", None, None),
    ("[x-]", "-", None, None),
    ("[x-]", "z", None, None),
    ("[-x]", "x", None, None),
    ("[-x]", "-", None, None),
    ("[-x]", "a", None, None),
    ("\\", "a", None, None),
    ("[a-b-c]", "a", None, None),
    ("[", "a", None, None),
    ("[^", "a", None, None),
    ("[^bc", "a", None, None),
    ("a[", "a", None, None),
    ("a[", "ab", None, None),
    ("a[", "x", None, None),
    ("a/b[", "x", None, None),
    ("*x", "xxx", Some(true), Some(true)),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum K {
    Exact,
    Prefix,
    Suffix,
    Regexp,
}

/// (pattern, kind, generated regexp) from `TestCompile` (Unix separator).
const COMPILE: &[(&str, K, &str)] = &[
    ("*", K::Regexp, "^[^/]*$"),
    ("file*", K::Regexp, "^file[^/]*$"),
    ("*file", K::Regexp, "^[^/]*file$"),
    ("a*/b", K::Regexp, "^a[^/]*/b$"),
    ("**", K::Suffix, ""),
    ("**/**", K::Regexp, "^(.*/)?.*$"),
    ("dir/**", K::Prefix, ""),
    ("**/dir", K::Suffix, ""),
    ("**/dir2/*", K::Regexp, "^(.*/)?dir2/[^/]*$"),
    ("**/dir2/**", K::Regexp, "^(.*/)?dir2/.*$"),
    ("**file", K::Suffix, ""),
    ("**/file*txt", K::Regexp, "^(.*/)?file[^/]*txt$"),
    ("**/**/*.txt", K::Regexp, "^(.*/)?(.*/)?[^/]*\\.txt$"),
    ("a[b-d]e", K::Regexp, "^a[b-d]e$"),
    (".*", K::Regexp, "^\\.[^/]*$"),
    ("abc.def", K::Exact, ""),
    ("abc?def", K::Regexp, "^abc[^/]def$"),
    ("**/foo/bar", K::Suffix, ""),
    ("a(b)c/def", K::Exact, ""),
    ("a.|)$(}+{bc", K::Exact, ""),
    (
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        K::Exact,
        "",
    ),
];

/// (file text, `ReadAll` result): `TestReadAll` and the reading rules.
const READ_ALL: &[(&str, &[&str])] = &[
    (
        "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ",
        &[
            "test1",
            "test2",
            "a/file/here",
            "lastfile",
            "!inverted/abs/path",
            "!",
            "!",
        ],
    ),
    ("", &[]),
    ("\n\n", &[]),
    ("\u{feff}# bom then comment\nx", &["x"]),
    ("\u{feff}a\n\u{feff}b", &["a", "\u{feff}b"]), // only the first line's BOM
    ("a\r\nb\r", &["a", "b"]),
    ("  # not a comment", &["# not a comment"]),
    ("\t./a//b/../c/ \u{a0}", &["a/c"]),
    ("/", &["/"]),
    ("//x", &["x"]),
    ("!/", &["!/"]),
    ("./ x", &[" x"]), // Clean uncovers a space; New trims it later
    ("../up", &["../up"]),
    ("!!x", &["!!x"]),
];

/// (patterns, `New` outcome: Ok(exception flag) or the error text).
const NEW: &[(&[&str], Result<bool, &str>)] = &[
    (&["docs", "config"], Ok(false)),
    (&["docs", "config", ""], Ok(false)),
    (&["docs", "!docs/README.md"], Ok(true)),
    (&["docs", "  !docs/README.md"], Ok(true)),
    (&["docs", "!docs/README.md  "], Ok(true)),
    (
        &["!"],
        Err("error from sender: invalid excludepatterns: [!]: illegal exclusion pattern: \"!\""),
    ),
    (
        &["a", "!/"],
        Err("error from sender: invalid excludepatterns: [a !/]: illegal exclusion pattern: \"!\""),
    ),
    (
        &["["],
        Err("error from sender: invalid excludepatterns: [[]: syntax error in pattern"),
    ),
    (
        &["bin\\", "obj\\"],
        Err("error from sender: invalid excludepatterns: [bin\\ obj\\]: syntax error in pattern"),
    ),
    (&["[Local-Only]/"], Ok(false)), // valid for filepath.Match, bad for RE2
];

/// (patterns, path, `MatchesOrParentMatches`, `MatchesUsingParentResults`
/// walking down from the root): docker behaviour that follows from the code.
const QUIRKS: &[(&[&str], &str, bool, bool)] = &[
    // `!` inside a class is a member, not a negation (Go and RE2 agree).
    (&["[!a]"], "b", false, false),
    (&["[!a]"], "!", true, true),
    (&["[^a]"], "b", true, true),
    // A user class reaches RE2: `\d` is a digit class, not an escaped `d`.
    (&["a\\d"], "a7", true, true),
    (&["a\\d"], "ad", false, false),
    (&["[[:digit:]]x"], "5x", true, true),
    // A bare `^` asserts the start of text.
    (&["a^b*"], "a^b", false, false),
    (&["^*"], "anything", true, true),
    // A pattern with no regexp syntax compares literally.
    (&["a^b"], "a^b", true, true),
    // `**` first with literal rest is a plain suffix, not a path component.
    (&["**foo"], "xfoo", true, true),
    (&["**/foo"], "xfoo", false, false),
    // `**` in the middle is an optional `anything/`.
    (&["a**b"], "ab", true, true),
    (&["a**b"], "ax/b", true, true),
    (&["a**b"], "axb", false, false),
    // `dir/**` is a prefix: the directory itself is not matched.
    (&["abc**"], "abcdef", true, true),
    (&["dir/**"], "dir", false, false),
    // `.` in a regexp does not match a newline; a negated class does.
    (&["**/*.txt"], "a\nb/c.txt", false, false),
    (&["*"], "a\nb", true, true),
    // Directory rules.
    (&["docs"], "docs/a/b", true, true),
    (&["docs", "!docs/a"], "docs/a/b", false, false),
    (&["*", "!keep.log"], "keep.log", false, false),
    (&["*", "!keep.log"], "src/keep.log", true, true),
    (&["logs", "!logs/keep.log"], "logs/other.log", true, true),
    (&["**/*.log", "!keep.log"], "a/keep.log", true, true),
    // An exception skipped for the directory is not retried on its parent
    // when walking: the two entry points disagree here.
    (&["a/*", "!a"], "a/f", false, true),
    // Cleaning: `./x`, `/x` and `x/` are `x`.
    (&["./x"], "x/y", true, true),
    (&["/x"], "x", true, true),
    (&["x/"], "x", true, true),
    (&["  x  "], "x", true, true),
    (&["../x"], "x", false, false),
];

/// (patterns, excluded directory, whether fsutil still walks into it).
const WALKS: &[(&[&str], &str, bool)] = &[
    (&["a"], "a", false),
    (&["a", "!a/b/c"], "a", true),
    (&["a", "!a/b/c"], "a/b", true),
    (&["a", "!a/b/c"], "ab", false),
    (&["a", "!b"], "a", false),
    (&["a", "!a/b/**"], "a", true),
    (&["a", "!a/b/*"], "a/b", true),
    (&["a", "!a/b*"], "c", true), // a wildcard exception: walk everything
    (&["a", "!**/keep"], "zzz", true),
    (&["a", "!a\\b"], "x", true),
];

fn outcome(m: &Matcher, path: &str) -> (bool, bool, bool, bool) {
    let exact = m.excludes_exact(path).unwrap();
    let any = m.excludes(path).unwrap();
    let no_context = m.excludes_in(path, &MatchInfo::default()).unwrap().0;
    (exact, any, walked(m, path), no_context)
}

/// `excludes_in` fed from the root down, as the context walker does.
fn walked(m: &Matcher, path: &str) -> bool {
    let parent = go_dir(path);
    let mut info = MatchInfo::default();
    if parent != "." {
        let dirs: Vec<&str> = parent.split('/').collect();
        for n in 1..=dirs.len() {
            info = m.excludes_in(&dirs[..n].join("/"), &info).unwrap().1;
        }
    }
    m.excludes_in(path, &info).unwrap().0
}

#[test]
fn matches_table() {
    for (pat, path, hit) in MATCHES {
        let m = Matcher::from_patterns(&[pat]).unwrap();
        let (exact, any, walk, no_context) = outcome(&m, path);
        let want = *hit != No;
        assert_eq!(exact, *hit == Exact, "exact: {pat:?} on {path:?}");
        assert_eq!(any, want, "with parents: {pat:?} on {path:?}");
        assert_eq!(walk, want, "walking: {pat:?} on {path:?}");
        assert_eq!(no_context, want, "no parent info: {pat:?} on {path:?}");
    }
}

/// patternmatcher's package-level `MatchesOrParentMatches(file, patterns)`.
fn matches_file(path: &str, patterns: &[&str]) -> Result<bool, IgnoreError> {
    let m = Matcher::from_patterns(patterns)?;
    let path = go_clean(path);
    if path == "." {
        return Ok(false);
    }
    m.excludes(&path)
}

#[test]
fn multi_pattern_table() {
    for (patterns, path, want) in MULTI {
        assert_eq!(
            matches_file(path, patterns).unwrap(),
            *want,
            "{patterns:?} on {path:?}"
        );
        if *path != "." {
            let m = Matcher::from_patterns(patterns).unwrap();
            assert_eq!(walked(&m, path), *want, "walking {patterns:?} on {path:?}");
        }
    }
}

#[test]
fn go_filepath_match_table() {
    for (pat, name, go, ignore) in GO_MATCH {
        assert_eq!(
            go_match(pat, name).ok(),
            *go,
            "filepath.Match({pat:?}, {name:?})"
        );
        assert_eq!(glob_match(pat, name), go.unwrap_or(false));
        assert_eq!(
            matches_file(name, &[*pat]).ok(),
            *ignore,
            "Matches({name:?}, [{pat:?}])"
        );
    }
}

#[test]
fn go_filepath_match_works_on_bytes() {
    // Go skips bytes after a star, so a cut multi-byte character counts as
    // several `?`s: `*??` matches the one-character "€".
    assert_eq!(go_match("*??", "€"), Ok(true));
    assert_eq!(go_match("??", "€"), Ok(false));
    assert_eq!(go_match("[!a]", "!"), Ok(true));
    assert_eq!(go_match("[!a]", "b"), Ok(false));
    assert_eq!(go_match("a[^x]b", "a/b"), Ok(true), "a class may match /");
}

#[test]
fn compile_table() {
    for (pat, kind, regexp) in COMPILE {
        let (k, re) = compile(&go_clean(pat));
        let got = match k {
            Kind::Exact => K::Exact,
            Kind::Prefix => K::Prefix,
            Kind::Suffix => K::Suffix,
            Kind::Regexp(_) => K::Regexp,
            Kind::Bad => panic!("{pat:?} did not compile"),
        };
        assert_eq!(got, *kind, "{pat:?}");
        if *kind == K::Regexp {
            assert_eq!(re, *regexp, "{pat:?}");
        }
    }
}

#[test]
fn read_all_table() {
    for (text, want) in READ_ALL {
        assert_eq!(read_all(text).unwrap(), *want, "{text:?}");
    }
}

#[test]
fn read_all_stops_at_bufio_scanner_limit() {
    let ok = format!("{}\nb", "a".repeat(MAX_LINE - 1));
    assert_eq!(read_all(&ok).unwrap().len(), 2);
    let long = format!("x\n{}\n", "a".repeat(MAX_LINE));
    let err = read_all(&long).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to parse dockerignore: bufio.Scanner: token too long"
    );
    assert_eq!(Matcher::new(&long).unwrap_err(), err);
}

#[test]
fn new_table() {
    for (patterns, want) in NEW {
        let got = Matcher::from_patterns(patterns)
            .map(|m| m.has_exceptions())
            .map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(String::from), "{patterns:?}");
    }
    let m = Matcher::from_patterns(&["docs", "config", ""]).unwrap();
    assert_eq!(m.patterns.len(), 2);
    // `New` cleans again: `!` + `/` collapses to a bare `!`.
    assert!(Matcher::new("a\n!/\n").is_err());
}

#[test]
fn a_pattern_rejected_by_re2_fails_when_evaluated() {
    let m = Matcher::from_patterns(&["[Local-Only]/"]).unwrap();
    for _ in 0..2 {
        assert_eq!(m.excludes("x"), Err(IgnoreError::Match));
    }
    assert_eq!(
        IgnoreError::Match.to_string(),
        "error from sender: failed to match excludepatterns: syntax error in pattern"
    );
    // An exception is only evaluated once something is excluded.
    let m = Matcher::from_patterns(&["*.log", "![Local-Only]"]).unwrap();
    assert_eq!(m.excludes("a.txt"), Ok(false));
    assert_eq!(m.excludes("a.log"), Err(IgnoreError::Match));
}

/// (Go expression, text, whether Go's `regexp.MatchString` matches): the
/// expressions patternmatcher can produce, run through `goregexp`.
const GO_REGEXP: &[(&str, &str, bool)] = &[
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
    // Where the `regex` crate's own reading would differ.
    ("^[[^/]*]$", "[[/]", true), // `[` is a member, not a nested class
    ("^[[^/]*]$", "a", false),
    ("^[a&&b]$", "&", true), // no class operators
    ("^[a~~b]$", "~", true),
    ("^[--a]$", "0", true),
    ("^[[:alpha:]-z]$", "-", true),
    ("^\\d$", "٣", false), // Perl classes are ASCII
    ("^[^\\d]$", "٣", true),
    ("^\\D$", "٣", true),
    ("^\\w$", "é", false),
    ("^\\W$", "é", true),
    ("^\\s$", "\u{b}", false), // no `\v` in `\s`
    ("^[[:space:]]$", "\u{b}", true),
    ("^\\S$", "\u{2003}", true),
    ("^é\\b", "é", false), // an ASCII word boundary
    ("^a\\b", "a", true),
    ("^é\\B$", "é", true),
    ("^\\pC$", "\u{378}", false), // unassigned: not in Go's C
    ("^\\pC$", "\u{1}", true),
    ("^\\PC$", "\u{378}", true),
    ("^[\\pC]$", "\u{e000}", true),
    ("^[^\\pC]$", "\u{378}", true),
    ("^[\\pL]$", "Ω", true),
    ("^\\Q[^/]*$", "[^/]*$x", true), // `\Q` runs to the end
    ("^a\\Q\\E*$", "aaa", true),     // an empty `\Q\E` repeats `a`
    ("^ab\\Q\\E+$", "abab", false),
    ("^\\Qab\\E+$", "abb", true),
    ("^\\0\\x7f\\777$", "\0\u{7f}\u{1ff}", true),
    ("^\\A.\\z$", "a", true),
    ("^\\n\\t\\a\\f\\v\\r$", "\n\t\u{7}\u{c}\u{b}\r", true),
    ("^[\\x41-\\x43]$", "B", true),
    ("^[\\a-\\r]$", "\n", true),
    ("^[\\.\\+\\(\\)\\$]$", "+", true),
    ("^ $", " ", true),
    ("^#$", "#", true),
    ("^[^\\x00-\\x{10FFFF}]$", "a", false),
];

/// Go expressions `regexp.Compile` rejects (or out of patternmatcher's reach).
const GO_REGEXP_ERRORS: &[&str] = &[
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
    // Accepted by the `regex` crate, refused by Go.
    "^[[:[^/]*:]]$", // the `:]` is searched for past the class
    "^a*?*$",
    "^a+*$",
    "^\\pl$",
    "^\\x4$",
    "^\\é$",
    "^[a-\\d]$",
    "^\\p$",
    "^[\\p]$",
    "^\\1$",
    "a\\",
    "^[é-a]$",
    // Not reachable from patternmatcher.
    "a|b",
    "(?i)a",
    "a{2}",
    "\\p{Greek}",
];

#[test]
fn go_regexp_cases() {
    for (re, s, want) in GO_REGEXP {
        let r = goregexp::compile(re).unwrap_or_else(|e| panic!("{re:?}: {e:?}"));
        assert_eq!(r.is_match(s), *want, "{re:?} on {s:?}");
    }
    // A `{` that starts no repetition is a literal.
    assert!(goregexp::compile("^a{$").unwrap().is_match("a{"));
}

#[test]
fn go_regexp_errors() {
    for re in GO_REGEXP_ERRORS {
        assert!(goregexp::compile(re).is_err(), "{re:?} should not compile");
    }
}

/// (pattern, path, `MatchesExact`, `None` for a match error): user classes
/// and escapes read with Go's regexp syntax, not the `regex` crate's.
const SYNTAX: &[(&str, &str, Option<bool>)] = &[
    ("[*]", "[]", Some(true)), // `^[[^/]*]$`: the class `[[^/]`, a star, `]`
    ("[*]", "*", Some(false)),
    ("[?]x", "^]x", Some(true)), // `^[[^/]]x$`
    ("[?]x", "ax", Some(false)),
    ("[a-*]", "b", None), // `[a-[`: a backward range
    ("[!-?]", "#]", Some(true)),
    ("[[:*:]]", "a", None),
    ("[a&&b]", "&", Some(true)),
    ("[a~~b]", "~", Some(true)),
    ("\\Q*", "[^/]*$x", Some(true)), // `^\Q[^/]*$`: all literal, unanchored
    ("\\Q*", "a", Some(false)),
    ("a\\pC", "a\u{378}", Some(false)),
    ("a\\pC", "a\u{ad}", Some(true)),
    ("a\\s", "a\u{b}", Some(false)),
    ("a\\d", "a٣", Some(false)),
    ("[^\\d]", "٣", Some(true)),
    ("a\\w", "aé", Some(false)),
    ("é\\b*", "é", Some(false)), // é is no ASCII word character
    ("é\\b*", "éx", Some(true)),
    ("a\\b*", "a.x", Some(true)),
    ("\\pL*", "Ωx", Some(true)),
    ("\\pl*", "x", None),
];

#[test]
fn syntax_table() {
    for (pat, path, want) in SYNTAX {
        let m = Matcher::from_patterns(&[pat]).unwrap();
        let got = match m.excludes_exact(path) {
            Ok(b) => Some(b),
            Err(IgnoreError::Match) => None,
            Err(e) => panic!("{pat:?}: {e}"),
        };
        assert_eq!(got, *want, "{pat:?} on {path:?}");
    }
}

#[test]
fn quirks_table() {
    for (patterns, path, any, walk) in QUIRKS {
        let text = patterns.join("\n");
        let m = Matcher::new(&text).unwrap();
        assert_eq!(m.excludes(path).unwrap(), *any, "{patterns:?} on {path:?}");
        assert_eq!(walked(&m, path), *walk, "walking {patterns:?} on {path:?}");
    }
}

#[test]
fn walks_excluded_dir_table() {
    for (patterns, dir, want) in WALKS {
        let m = Matcher::from_patterns(patterns).unwrap();
        assert_eq!(m.walks_excluded_dir(dir), *want, "{patterns:?} in {dir:?}");
    }
}

#[test]
fn go_path_helpers() {
    for (p, clean) in [
        ("", "."),
        ("/", "/"),
        ("a//b/./c/", "a/b/c"),
        ("a/../..", ".."),
        ("/../a", "/a"),
        ("a/b/../../../c", "../c"),
    ] {
        assert_eq!(go_clean(p), clean, "Clean({p:?})");
    }
    for (p, dir) in [("a", "."), ("a/b", "a"), ("file/", "file"), ("/", "/")] {
        assert_eq!(go_dir(p), dir, "Dir({p:?})");
    }
}

/// Pattern-ish text: the characters the matchers treat specially, mixed
/// with ordinary ones.
fn pattern_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("*"),
            Just("**"),
            Just("?"),
            Just("["),
            Just("]"),
            Just("^"),
            Just("!"),
            Just("-"),
            Just("\\"),
            Just("/"),
            Just("."),
            Just("a"),
            Just("b"),
            Just("#"),
            Just(" "),
            Just("\n"),
            Just("\r"),
            Just(":"),
            Just("é"),
            Just("€"),
            Just("\u{feff}"),
            Just("("),
            Just("{"),
            Just("$"),
            Just("p"),
            Just("Q"),
            Just("x"),
            Just("0"),
        ],
        0..24,
    )
    .prop_map(|v| v.concat())
}

fn path_text() -> impl Strategy<Value = String> {
    "[a-c.!\\[\\]é€\n*?\\\\-]{1,4}(/[a-c.é*]{1,3}){0,3}"
}

proptest! {
    #[test]
    fn matcher_never_panics(text in pattern_text(), path in path_text(), arbitrary in ".{0,16}") {
        if let Ok(m) = Matcher::new(&text) {
            let _ = m.excludes(&path);
            let _ = m.excludes_exact(&path);
            let _ = m.excludes_in(&path, &MatchInfo::default());
            let _ = walked_checked(&m, &path);
            let _ = m.walks_excluded_dir(&path);
            let _ = m.excludes(&arbitrary);
        }
        let _ = Matcher::new(&arbitrary);
        let _ = go_match(&text, &path);
        let _ = go_match(&arbitrary, &path);
        let _ = compile(&text);
        let _ = goregexp::compile(&text);
    }

    #[test]
    fn what_goregexp_accepts_the_regex_crate_compiles(text in pattern_text()) {
        let (_, generated) = compile(&go_clean(&text));
        for expr in [generated, text] {
            if let Ok(rust) = goregexp::translate(&expr) {
                prop_assert!(regex::Regex::new(&rust).is_ok(), "{:?} as {:?}", expr, rust);
            }
        }
    }

    #[test]
    fn one_plain_pattern_covers_what_it_matches_exactly(pat in pattern_text(), path in path_text()) {
        if let Ok(m) = Matcher::from_patterns(&[pat.replace('!', "")])
            && let Ok(true) = m.excludes_exact(&path)
        {
            prop_assert_eq!(m.excludes(&path), Ok(true));
        }
    }
}

/// `walked` without unwraps, for arbitrary input.
fn walked_checked(m: &Matcher, path: &str) -> Result<bool, IgnoreError> {
    let parent = go_dir(path);
    let mut info = MatchInfo::default();
    if parent != "." {
        let dirs: Vec<&str> = parent.split('/').collect();
        for n in 1..=dirs.len() {
            info = m.excludes_in(&dirs[..n].join("/"), &info)?.1;
        }
    }
    Ok(m.excludes_in(path, &info)?.0)
}

#[test]
fn a_whole_line_of_wildcards_compiles() {
    // Go compiles the longest line `ReadAll` lets through; so must we.
    for unit in ["?", "**/a"] {
        let pat = unit.repeat((MAX_LINE - 1) / unit.len());
        let m = Matcher::from_patterns(&[&pat]).unwrap();
        assert_eq!(m.excludes_exact("a/b"), Ok(false), "{unit:?}");
    }
}
