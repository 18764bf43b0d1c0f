//! The shell against real images: (image, script) → (stdout, stderr,
//! status), the texts as dash 0.5.12 (Debian bookworm), busybox 1.36 ash
//! (Alpine 3.20) and bash 5.2 print them.

use crate::userland::fs::{Cred, Fs};
use crate::userland::proc::Stream;
use crate::userland::testing::{image_fs, world};
use crate::userland::{Outcome, Spec, run};

fn go(fs: &mut Fs, argv: &[&str], stdin: &str, user: &str) -> Outcome {
    run(
        fs,
        &world(),
        &Spec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            user: user.into(),
            stdin: stdin.as_bytes().to_vec(),
            ..Spec::default()
        },
    )
    .expect("starts")
}

fn out(o: &Outcome) -> (String, String, i32) {
    (
        o.transcript.stream(Stream::Stdout),
        o.transcript.stream(Stream::Stderr),
        o.status,
    )
}

/// `/bin/sh -c script` on an image.
fn sh(image: &str, script: &str) -> (String, String, i32) {
    let mut fs = image_fs(image);
    out(&go(&mut fs, &["/bin/sh", "-c", script], "", ""))
}

const A: &str = "alpine:3.20";
const D: &str = "debian:bookworm";

fn check(image: &str, script: &str, stdout: &str, stderr: &str, status: i32) {
    let got = sh(image, script);
    assert_eq!(
        got,
        (stdout.to_string(), stderr.to_string(), status),
        "{image}: {script}"
    );
}

#[test]
fn both_shells_agree_on_the_basics() {
    let cases: &[(&str, &str, &str, i32)] = &[
        ("echo hi", "hi\n", "", 0),
        ("echo a; echo b", "a\nb\n", "", 0),
        ("true && echo y || echo n", "y\n", "", 0),
        ("false && echo y || echo n", "n\n", "", 0),
        ("false; echo $?", "1\n", "", 0),
        ("! false; echo $?", "0\n", "", 0),
        ("x=1; echo $x ${x} \"$x\"", "1 1 1\n", "", 0),
        ("echo ${u:-d} ${u-e} ${x:=f} $x", "d e f f\n", "", 0),
        ("x=a; echo ${x:+alt} ${#x}", "alt 1\n", "", 0),
        (
            "p=/a/b/c.tar.gz; echo ${p#*/} ${p##*/} ${p%.*} ${p%%.*}",
            "a/b/c.tar.gz c.tar.gz /a/b/c.tar /a/b/c\n",
            "",
            0,
        ),
        (
            "echo $((1 + 2 * 3)) $((7 / 2)) $((7 % 3))",
            "7 3 1\n",
            "",
            0,
        ),
        (
            "i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i",
            "3\n",
            "",
            0,
        ),
        (
            "i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i",
            "2\n",
            "",
            0,
        ),
        ("for x in a b c; do echo $x; done", "a\nb\nc\n", "", 0),
        ("set -- 1 2; for x; do echo $x; done", "1\n2\n", "", 0),
        (
            "case foo.txt in *.md) echo md;; *.txt|*.doc) echo txt;; esac",
            "txt\n",
            "",
            0,
        ),
        (
            "f() { echo \"f:$1:$#\"; return 3; }; f a b; echo $?",
            "f:a:2\n3\n",
            "",
            0,
        ),
        (
            "if false; then echo a; elif true; then echo b; else echo c; fi",
            "b\n",
            "",
            0,
        ),
        ("x=1; (x=2; echo $x); echo $x", "2\n1\n", "", 0),
        (
            "{ echo a; echo b; } | while read l; do echo \"<$l>\"; done",
            "<a>\n<b>\n",
            "",
            0,
        ),
        ("echo $(echo hi) `echo there`", "hi there\n", "", 0),
        ("x=$(printf 'a\\n\\n\\n'); echo \"[$x]\"", "[a]\n", "", 0),
        (
            "for i in 1 2 3 4; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done",
            "1\n3\n",
            "",
            0,
        ),
        (
            "set -- a 'b c'; for x in \"$@\"; do echo \"$x\"; done",
            "a\nb c\n",
            "",
            0,
        ),
        ("set -- a 'b c'; echo $#; shift; echo $1", "2\nb c\n", "", 0),
        ("x='a  b'; set -- $x; echo $#", "2\n", "", 0),
        ("IFS=:; x=a:b:c; set -- $x; echo $# $2", "3 b\n", "", 0),
        (
            "printf '%s-%d-%x-%o-%c-%%\\n' s 42 255 8 xyz",
            "s-42-ff-10-x-%\n",
            "",
            0,
        ),
        (
            "printf '%5s|%-5s|%05d\\n' a b 42",
            "    a|b    |00042\n",
            "",
            0,
        ),
        ("printf '%s\\n' a b c", "a\nb\nc\n", "", 0),
        ("printf '%b' 'a\\tb\\n'", "a\tb\n", "", 0),
        (
            "[ -d /etc ] && [ -f /etc/passwd ] && [ ! -e /nope ] && echo ok",
            "ok\n",
            "",
            0,
        ),
        ("test 3 -gt 2 -a abc = abc; echo $?", "0\n", "", 0),
        ("[ -z '' ] && [ -n x ] && echo ok", "ok\n", "", 0),
        ("cd /etc && pwd; cd /; pwd", "/etc\n/\n", "", 0),
        (
            "for i in 1 2; do for j in a b; do [ $j = b ] && break 2; echo $i$j; done; done",
            "1a\n",
            "",
            0,
        ),
        ("x=$(exit 3); echo $?", "3\n", "", 0),
        ("echo ${#}; set -- a b c; echo ${#} $3", "0\n3 c\n", "", 0),
        (
            "echo \"$*\" | read_missing 2>/dev/null; set -- a b; IFS=-; echo \"$*\"",
            "a-b\n",
            "",
            0,
        ),
        (
            "a=1 b=2; echo $((a<b)) $((a==1 ? 10 : 20))",
            "1 10\n",
            "",
            0,
        ),
        ("echo \"a\\$b\" 'c\\d'", "a$b c\\d\n", "", 0),
        (
            "v=x; case $v in [a-z]) echo lower;; *) echo other;; esac",
            "lower\n",
            "",
            0,
        ),
        (
            "echo a > /tmp/f; echo b >> /tmp/f; while read l; do echo $l; done < /tmp/f",
            "a\nb\n",
            "",
            0,
        ),
        (
            "x=v; while read l; do echo \"$l\"; done <<EOF\n$x\nEOF",
            "v\n",
            "",
            0,
        ),
        (
            "while read l; do echo \"$l\"; done <<'EOF'\n$x\nEOF",
            "$x\n",
            "",
            0,
        ),
        (
            "while read l; do echo \"$l\"; done <<-EOF\n\tindented\n\tEOF",
            "indented\n",
            "",
            0,
        ),
        ("echo err >&2", "", "err\n", 0),
        (
            "{ echo out; echo err >&2; } 2>&1 >/dev/null",
            "err\n",
            "",
            0,
        ),
        (
            "echo hidden 2>/dev/null >/dev/null; echo shown",
            "shown\n",
            "",
            0,
        ),
        ("exit 3", "", "", 3),
        ("(exit 4); echo $?", "4\n", "", 0),
        ("echo a & wait; echo b", "a\nb\n", "", 0),
        ("set -e; false; echo no", "", "", 1),
        ("set -e; false || true; echo yes", "yes\n", "", 0),
        ("set -e; if false; then :; fi; echo yes", "yes\n", "", 0),
        ("set -e; ! true; echo yes", "yes\n", "", 0),
        ("set -e; false && true; echo yes", "yes\n", "", 0),
        (
            "f() { local x=2; echo $x; }; x=1; f; echo $x",
            "2\n1\n",
            "",
            0,
        ),
        ("eval 'echo $((2+2))'", "4\n", "", 0),
        ("x=1; export x; readonly y=2; echo $x $y", "1 2\n", "", 0),
        ("unset x; echo \"[${x}]\"", "[]\n", "", 0),
        ("echo ~", "/root\n", "", 0),
        ("cd /etc; echo host*", "hostname hosts\n", "", 0),
        ("echo /etc/host?", "/etc/hosts\n", "", 0),
        ("echo /nope/*", "/nope/*\n", "", 0),
        ("echo '*' \"*\"", "* *\n", "", 0),
        (
            "command -v echo; command -v nosuch; echo $?",
            "echo\n1\n",
            "",
            0,
        ),
        ("umask; umask 077; umask", "0022\n0077\n", "", 0),
        ("echo $0", "/bin/sh\n", "", 0),
        (
            "t() { trap 'echo bye' EXIT; echo hi; }; t",
            "hi\nbye\n",
            "",
            0,
        ),
        (
            "x=5; x=$((x * 2)); echo $x; : $((x += 1)); echo $x",
            "10\n11\n",
            "",
            0,
        ),
        ("getopts ab: o -b val; echo $o $OPTARG", "b val\n", "", 0),
        (
            "echo a | tr_missing_cmd 2>/dev/null; echo $?",
            "127\n",
            "",
            0,
        ),
        ("false | true; echo $?", "0\n", "", 0),
    ];
    for image in [A, D] {
        for (script, stdout, stderr, st) in cases {
            check(image, script, stdout, stderr, *st);
        }
    }
}

#[test]
fn command_lookup_follows_each_images_path() {
    // Debian bookworm has a merged /usr and PATH lists /usr/bin first.
    check(
        D,
        "command -v sh; type cd",
        "/usr/bin/sh\ncd is a shell builtin\n",
        "",
        0,
    );
    check(
        A,
        "command -v sh; type nosuch",
        "/bin/sh\nnosuch: not found\n",
        "",
        127,
    );
    check(
        D,
        "source /dev/null",
        "",
        "/bin/sh: 1: source: not found\n",
        127,
    );
}

#[test]
fn a_foreign_elf_is_an_exec_format_error() {
    use crate::userland::elf;
    let arm = elf::build(&elf::Spec {
        machine: elf::EM_AARCH64,
        interp: None,
        note: None,
        extra: vec![],
        size: 1000,
        seed: "a".into(),
    });
    for (image, msg) in [
        (D, "/bin/sh: 1: /arm: Exec format error\n"),
        (A, "/bin/sh: /arm: Exec format error\n"),
    ] {
        let mut fs = image_fs(image);
        fs.write(
            "/arm",
            crate::layer::Content::bytes(arm.clone()),
            0o755,
            Cred::ROOT,
        )
        .expect("write");
        let o = go(&mut fs, &["/bin/sh", "-c", "/arm"], "", "");
        assert_eq!(out(&o), ("".into(), msg.into(), 126));
    }
}

#[test]
fn stdin_reaches_read_and_programs() {
    let mut fs = image_fs(A);
    let o = go(
        &mut fs,
        &["/bin/sh", "-c", "read a b; echo \"$b,$a\"; read c; echo $c"],
        "1 2 3\nnext\n",
        "",
    );
    assert_eq!(out(&o), ("2 3,1\nnext\n".into(), "".into(), 0));
    let o = go(&mut fs, &["/bin/sh", "-c", "read a; echo $?"], "", "");
    assert_eq!(out(&o), ("1\n".into(), "".into(), 0));
}

#[test]
fn unsimulated_programs_are_named() {
    // A native program of the image that no simulation stands for.
    let mut fs = image_fs(A);
    fs.write(
        "/usr/local/bin/mytool",
        crate::layer::Content::Filler { seed: 1, len: 64 },
        0o755,
        crate::userland::fs::Cred::ROOT,
    )
    .unwrap();
    assert_eq!(
        out(&go(&mut fs, &["/bin/sh", "-c", "mytool"], "", "")),
        (
            String::new(),
            "/bin/sh: mytool: imagelab does not simulate /usr/local/bin/mytool\n".into(),
            126
        )
    );
}

#[test]
fn echo_differs_between_dash_and_ash() {
    // dash 0.5.12: escapes always, only -n. busybox ash: -n -e -E, no
    // escapes by default.
    check(D, "echo 'a\\nb'", "a\nb\n", "", 0);
    check(A, "echo 'a\\nb'", "a\\nb\n", "", 0);
    check(A, "echo -e 'a\\nb'", "a\nb\n", "", 0);
    check(D, "echo -e x", "-e x\n", "", 0);
    check(D, "echo -n x", "x", "", 0);
    check(A, "echo -n x", "x", "", 0);
    // GNU /bin/echo and the busybox applet do not interpret escapes.
    check(D, "/bin/echo 'a\\nb'", "a\\nb\n", "", 0);
    check(A, "/bin/echo -e 'a\\tb'", "a\tb\n", "", 0);
}

#[test]
fn not_found_and_exec_errors_in_each_wording() {
    check(A, "nosuch", "", "/bin/sh: nosuch: not found\n", 127);
    check(D, "nosuch", "", "/bin/sh: 1: nosuch: not found\n", 127);
    check(
        D,
        "echo a\n\nnosuch",
        "a\n",
        "/bin/sh: 3: nosuch: not found\n",
        127,
    );
    check(D, "/nope/x", "", "/bin/sh: 1: /nope/x: not found\n", 127);
    check(
        D,
        "/etc/passwd",
        "",
        "/bin/sh: 1: /etc/passwd: Permission denied\n",
        126,
    );
    let mut fs = image_fs(D);
    let o = go(&mut fs, &["/bin/bash", "-c", "nosuch"], "", "");
    assert_eq!(
        out(&o),
        (
            "".into(),
            "/bin/bash: line 1: nosuch: command not found\n".into(),
            127
        )
    );
}

#[test]
fn a_script_without_shebang_runs_as_a_shell_script() {
    for image in [A, D] {
        let mut fs = image_fs(image);
        fs.write(
            "/s",
            crate::layer::Content::bytes(b"echo in script $1\n".to_vec()),
            0o755,
            Cred::ROOT,
        )
        .expect("write");
        let o = go(&mut fs, &["/bin/sh", "-c", "/s arg"], "", "");
        assert_eq!(out(&o), ("in script arg\n".into(), "".into(), 0), "{image}");
    }
}

#[test]
fn syntax_errors_in_each_wording() {
    check(
        D,
        "if true; then echo x",
        "",
        "/bin/sh: 1: Syntax error: end of file unexpected (expecting \"fi\")\n",
        2,
    );
    check(
        A,
        "if true; then echo x",
        "",
        "/bin/sh: syntax error: unexpected end of file (expecting \"fi\")\n",
        2,
    );
    check(
        D,
        "while true",
        "",
        "/bin/sh: 1: Syntax error: end of file unexpected (expecting \"do\")\n",
        2,
    );
    check(
        D,
        "echo 'abc",
        "",
        "/bin/sh: 1: Syntax error: Unterminated quoted string\n",
        2,
    );
}

#[test]
fn pipefail_is_rejected_by_dash_only() {
    // dash 0.5.12: `set -o pipefail` is an illegal option and, as a special
    // builtin's error, ends the shell (hadolint DL4006's lesson).
    check(
        D,
        "set -o pipefail && echo hi",
        "",
        "/bin/sh: 1: set: Illegal option -o pipefail\n",
        2,
    );
    check(A, "set -o pipefail; false | true; echo $?", "1\n", "", 0);
    let mut fs = image_fs(D);
    let o = go(
        &mut fs,
        &["/bin/sh", "-o", "pipefail", "-c", "echo hi"],
        "",
        "",
    );
    assert_eq!(
        out(&o),
        (
            "".into(),
            "/bin/sh: 0: Illegal option -o pipefail\n".into(),
            2
        )
    );
    let o = go(
        &mut fs,
        &["/bin/bash", "-o", "pipefail", "-c", "false | true"],
        "",
        "",
    );
    assert_eq!(out(&o).2, 1);
}

#[test]
fn cd_and_nounset_errors() {
    check(D, "cd /nope", "", "/bin/sh: 1: cd: can't cd to /nope\n", 2);
    check(
        A,
        "cd /nope",
        "",
        "/bin/sh: cd: can't cd to /nope: No such file or directory\n",
        2,
    );
    check(
        D,
        "set -u; echo $nope",
        "",
        "/bin/sh: 1: nope: parameter not set\n",
        2,
    );
    check(
        A,
        "set -u; echo $nope",
        "",
        "/bin/sh: nope: parameter not set\n",
        2,
    );
    check(
        D,
        "echo ${x:?is missing}; echo no",
        "",
        "/bin/sh: 1: x: is missing\n",
        2,
    );
}

#[test]
fn xtrace_quotes_as_the_shells_do() {
    check(D, "set -x; echo 'a b' c", "a b c\n", "+ echo 'a b' c\n", 0);
    let mut fs = image_fs(A);
    let o = go(
        &mut fs,
        &["/bin/sh", "-ex", "-c", "x=1; false; echo no"],
        "",
        "",
    );
    assert_eq!(out(&o), ("".into(), "+ x=1\n+ false\n".into(), 1));
}

#[test]
fn redirections_write_files_with_the_users_rights() {
    let mut fs = image_fs(D);
    let o = go(&mut fs, &["/bin/sh", "-c", "echo hi > /x"], "", "nobody");
    assert_eq!(
        out(&o),
        (
            "".into(),
            "/bin/sh: 1: cannot create /x: Permission denied\n".into(),
            2
        )
    );
    let mut fs = image_fs(A);
    let o = go(&mut fs, &["/bin/sh", "-c", "echo hi > /x"], "", "nobody");
    assert_eq!(
        out(&o),
        (
            "".into(),
            "/bin/sh: can't create /x: Permission denied\n".into(),
            2
        )
    );
    let o = go(
        &mut fs,
        &[
            "/bin/sh",
            "-c",
            "echo a > /tmp/o; echo b >> /tmp/o; echo c 2>/tmp/e >&2",
        ],
        "",
        "",
    );
    assert_eq!(out(&o).2, 0);
    assert_eq!(fs.read_string("/tmp/o").unwrap(), "a\nb\n");
    assert_eq!(fs.read_string("/tmp/e").unwrap(), "c\n");
    let o = go(
        &mut fs,
        &[
            "/bin/sh",
            "-c",
            "(exec >/tmp/x; echo in); echo out; exec 2>&1; echo e >&2",
        ],
        "",
        "",
    );
    assert_eq!(out(&o), ("out\ne\n".into(), "".into(), 0));
    assert_eq!(fs.read_string("/tmp/x").unwrap(), "in\n");
}

#[test]
fn scripts_from_files_and_stdin() {
    let mut fs = image_fs(D);
    fs.write(
        "/t.sh",
        crate::layer::Content::bytes(b"echo $0 $1\nnosuch\n".to_vec()),
        0o644,
        Cred::ROOT,
    )
    .expect("write");
    let o = go(&mut fs, &["sh", "/t.sh", "x"], "", "");
    assert_eq!(
        out(&o),
        (
            "/t.sh x\n".into(),
            "/t.sh: 2: nosuch: not found\n".into(),
            127
        )
    );
    let o = go(&mut fs, &["sh"], "echo from stdin\n", "");
    assert_eq!(out(&o), ("from stdin\n".into(), "".into(), 0));
    let o = go(&mut fs, &["sh", "/nope.sh"], "", "");
    assert_eq!(
        out(&o),
        (
            "".into(),
            "sh: 0: cannot open /nope.sh: No such file\n".into(),
            2
        )
    );
}

#[test]
fn bash_extensions() {
    let mut fs = image_fs(D);
    let o = go(
        &mut fs,
        &[
            "/bin/bash",
            "-c",
            "x=hello; echo ${x/l/L} ${x//l/L}; [[ $x == h* ]] && echo m; cat <<< hi >/dev/null; echo &>/dev/null x",
        ],
        "",
        "",
    );
    assert_eq!(out(&o), ("heLlo heLLo\nm\n".into(), String::new(), 0));
}

#[test]
fn the_session_keeps_state_between_lines() {
    let mut fs = image_fs(A);
    let w = world();
    let budget = std::rc::Rc::new(std::cell::RefCell::new(crate::userland::proc::Budget::new(
        w.limits,
    )));
    let t = std::rc::Rc::new(std::cell::RefCell::new(
        crate::userland::proc::Transcript::default(),
    ));
    let os = crate::userland::os::Os::detect(&fs);
    let mut ctx = crate::userland::proc::Ctx {
        fs: &mut fs,
        world: &w,
        os,
        env: crate::userland::proc::Env::from_list(&["PATH=/usr/bin:/bin"]),
        cwd: "/".into(),
        user: crate::userland::proc::User::root(),
        stdin: Vec::new(),
        stdout: crate::userland::proc::Out::new(
            crate::userland::proc::Sink::Console(t.clone(), Stream::Stdout),
            budget.clone(),
        ),
        stderr: crate::userland::proc::Out::new(
            crate::userland::proc::Sink::Console(t.clone(), Stream::Stderr),
            budget.clone(),
        ),
        budget: budget.clone(),
        depth: 0,
        argv0: "/bin/sh".into(),
    };
    let mut s = super::Session::new(&ctx);
    assert_eq!(s.prompt(&ctx), "/ # ");
    assert_eq!(
        s.line(&mut ctx, "x=1; f() { echo f$x; }; cd /etc"),
        super::Flow::Continue(0)
    );
    assert_eq!(s.prompt(&ctx), "/etc # ");
    assert_eq!(s.line(&mut ctx, "f; false"), super::Flow::Continue(1));
    assert_eq!(s.line(&mut ctx, "exit 5"), super::Flow::Exit(5));
    assert_eq!(t.borrow().text(), "f1\n");
}

#[test]
fn budgets_stop_endless_loops() {
    let mut fs = image_fs(A);
    let mut w = world();
    w.limits.steps = 1000;
    let o = run(
        &mut fs,
        &w,
        &Spec {
            argv: vec!["/bin/sh".into(), "-c".into(), "while :; do :; done".into()],
            ..Spec::default()
        },
    )
    .expect("starts");
    assert!(o.limit.is_some());
    let o = run(
        &mut fs,
        &w,
        &Spec {
            argv: vec!["/bin/sh".into(), "-c".into(), "f() { f; }; f".into()],
            ..Spec::default()
        },
    )
    .expect("starts");
    assert!(o.limit.is_some());
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn random_scripts_never_panic(s in "[a-z$(){}|&;<>'\"`*?\\[\\] =\n#!\\\\0-9-]{0,40}") {
            let mut fs = image_fs(A);
            let mut w = world();
            w.limits.steps = 200;
            let _ = run(&mut fs, &w, &Spec {
                argv: vec!["/bin/sh".into(), "-c".into(), s.clone()],
                ..Spec::default()
            });
            let mut fs = image_fs(D);
            let _ = run(&mut fs, &w, &Spec {
                argv: vec!["/bin/bash".into(), "-c".into(), s],
                ..Spec::default()
            });
        }
    }
}
