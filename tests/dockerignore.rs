//! What the build context holds for a `.dockerignore`, walked as BuildKit's
//! context sender (fsutil over moby/patternmatcher) walks it.

mod common;
use common::Lab;
use imagelab::builder::context::{Context, ContextError};
use std::fs;
use std::path::Path;

/// Lays out `tree` (a trailing `/` makes a directory) with `ignore` as the
/// `.dockerignore`, and returns the paths the context holds.
fn sent(tree: &[&str], ignore: &str) -> Result<Vec<String>, ContextError> {
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), tree);
    fs::write(dir.path().join(".dockerignore"), ignore).unwrap();
    let ctx = Context::load(dir.path(), Some(ignore))?;
    Ok(ctx.entries.keys().cloned().collect())
}

fn make(root: &Path, tree: &[&str]) {
    for p in tree {
        let full = root.join(p.trim_end_matches('/'));
        if p.ends_with('/') {
            fs::create_dir_all(&full).unwrap();
        } else {
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(&full, p.as_bytes()).unwrap();
        }
    }
}

const TREE: &[&str] = &[
    "Dockerfile",
    "README.md",
    "app.log",
    "build/out.bin",
    "docs/a/b",
    "docs/index.md",
    "logs/keep.log",
    "logs/other.log",
    "src/build/gen.rs",
    "src/deep/x.log",
    "src/main.rs",
    "x/y",
];

/// (what it shows, `.dockerignore`, paths sent besides the ones listed in
/// `kept`). Every row is checked against the full TREE.
const CASES: &[(&str, &str, &[&str])] = &[
    (
        "no file: everything",
        "",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "app.log",
            "build",
            "build/out.bin",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "logs",
            "logs/keep.log",
            "logs/other.log",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "**/*.log at every depth, the root included",
        "**/*.log",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "build",
            "build/out.bin",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "logs",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "an exception inside an excluded directory brings the directory back",
        "logs\n!logs/keep.log",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "app.log",
            "build",
            "build/out.bin",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "logs",
            "logs/keep.log",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "!keep.log names a root path only: it cannot reach into logs/",
        "logs\n*.log\n!keep.log",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "build",
            "build/out.bin",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "a directory pattern excludes all below it",
        "docs",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "app.log",
            "build",
            "build/out.bin",
            "logs",
            "logs/keep.log",
            "logs/other.log",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "a leading / and ./ anchor nothing more: both are the root already",
        "/build\n./x\n",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "app.log",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "logs",
            "logs/keep.log",
            "logs/other.log",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
        ],
    ),
    (
        "the Dockerfile and .dockerignore obey the patterns like any file",
        "Dockerfile\n.dockerignore\n",
        &[
            "README.md",
            "app.log",
            "build",
            "build/out.bin",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "logs",
            "logs/keep.log",
            "logs/other.log",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "* then exceptions: an allow-list",
        "*\n!src\n!README.md\nsrc/deep",
        &[
            "README.md",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/main.rs",
        ],
    ),
    (
        "* then a nested exception: only its parents come along",
        "*\n!src/main.rs",
        &["src", "src/main.rs"],
    ),
    (
        "* then a wildcard exception walks every excluded directory",
        "*\n!**/*.rs",
        &["src", "src/build", "src/build/gen.rs", "src/main.rs"],
    ),
    (
        "the last matching line wins",
        "!README.md\n*.md\n",
        &[
            ".dockerignore",
            "Dockerfile",
            "app.log",
            "build",
            "build/out.bin",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "logs",
            "logs/keep.log",
            "logs/other.log",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "comments only in column one; blank and spaced lines are trimmed",
        "# docs\n  \n  docs/a  \n #x\n",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "app.log",
            "build",
            "build/out.bin",
            "docs",
            "docs/index.md",
            "logs",
            "logs/keep.log",
            "logs/other.log",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "* does not cross /: */*.log is one level down only",
        "*/*.log",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "app.log",
            "build",
            "build/out.bin",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "logs",
            "src",
            "src/build",
            "src/build/gen.rs",
            "src/deep",
            "src/deep/x.log",
            "src/main.rs",
            "x",
            "x/y",
        ],
    ),
    (
        "an exception skipped for a directory is not retried below it",
        "src/*\n!src",
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "app.log",
            "build",
            "build/out.bin",
            "docs",
            "docs/a",
            "docs/a/b",
            "docs/index.md",
            "logs",
            "logs/keep.log",
            "logs/other.log",
            "src",
            "x",
            "x/y",
        ],
    ),
];

#[test]
fn context_holds_what_buildkit_sends() {
    for (what, ignore, want) in CASES {
        let got = sent(TREE, ignore).unwrap();
        assert_eq!(got, *want, "{what}: {ignore:?}");
    }
}

#[test]
fn fsutil_walker_cases() {
    // (tree, patterns one a line, sent): fsutil's own walker tests.
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["bar", "foo/bar2", "foo2"],
            "foo*\n!foo/bar2",
            &[".dockerignore", "bar", "foo", "foo/bar2"],
        ),
        (
            &["foo/bar"],
            "foo\n!foo/bar",
            &[".dockerignore", "foo", "foo/bar"],
        ),
        (
            &["foo/bar/baz/x", "foo/bar/baz/y"],
            "foo\n!foo/bar\nfoo/bar/baz\n!foo/bar/baz/x",
            &[
                ".dockerignore",
                "foo",
                "foo/bar",
                "foo/bar/baz",
                "foo/bar/baz/x",
            ],
        ),
        (&["foo/bar/"], "**/bar", &[".dockerignore", "foo"]),
        (
            &["foo/bar/"],
            "**/bar\n!foo/bar/baz",
            &[".dockerignore", "foo"],
        ),
    ];
    for (tree, ignore, want) in cases {
        assert_eq!(sent(tree, ignore).unwrap(), *want, "{ignore:?}");
    }
}

#[test]
fn invalid_patterns_stop_the_transfer_with_dockers_text() {
    let err = sent(&["a"], "*.tmp\n[\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "error from sender: invalid excludepatterns: [*.tmp []: syntax error in pattern"
    );
    let err = sent(&["a"], "!\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "error from sender: invalid excludepatterns: [!]: illegal exclusion pattern: \"!\""
    );
    // Valid for filepath.Match, rejected by RE2 when first evaluated.
    let err = sent(&["a"], "[Local-Only]/\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "error from sender: failed to match excludepatterns: syntax error in pattern"
    );
    // An exception is evaluated only for excluded paths.
    assert_eq!(
        sent(&["a"], "*.tmp\n![Local-Only]\n").unwrap(),
        [".dockerignore", "a"]
    );
}

#[test]
fn docker_build_reports_dockerignore_errors_where_buildkit_does() {
    let mut lab = Lab::new();
    lab.write("a.txt", "a\n");
    lab.write(".dockerignore", "*.tmp\n[\n");
    // The patterns are checked when the context is sent: not sent, no error.
    lab.write("Dockerfile", "FROM scratch\nLABEL a=b\n");
    lab.ok("docker build -q .");
    lab.write("Dockerfile", "FROM scratch\nCOPY . /\n");
    let out = lab.run("docker build .");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "failed to solve: error from sender: invalid excludepatterns: [*.tmp []: syntax error in pattern"
        ),
        "{}",
        out.stderr
    );
    // A line past bufio.Scanner's limit fails while loading .dockerignore.
    lab.write("Dockerfile", "FROM scratch\nLABEL a=b\n");
    lab.write(".dockerignore", &"x".repeat(64 * 1024));
    let out = lab.run("docker build .");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "failed to solve: failed to parse dockerignore: bufio.Scanner: token too long"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_dockerignore_with_a_non_utf8_byte_still_applies() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM scratch\nCOPY . /\n");
    lab.write("keep.txt", "k\n");
    lab.write("drop.log", "d\n");
    fs::write(lab.work().join(".dockerignore"), b"# caf\xe9\n*.log\n").unwrap();
    lab.ok("docker build -q -t bytes .");
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("bytes").unwrap();
    let rootfs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    assert!(rootfs.get("keep.txt").is_some());
    assert!(rootfs.get("drop.log").is_none());
}
