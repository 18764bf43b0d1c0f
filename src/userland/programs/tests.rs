//! Tests of the busybox and coreutils programs, both dialects. Programs
//! run directly (not through the shell). Texts pinned here follow busybox
//! 1.36 (Alpine 3.20) and GNU coreutils 9.1 / grep 3.8 / sed 4.9 / tar
//! 1.34 / shadow 4.13 (Debian 12) sources.

use crate::userland::fs::Fs;
use crate::userland::proc::Stream;
use crate::userland::testing::{image_fs, world};
use crate::userland::{Spec, run};

struct R {
    out: String,
    err: String,
    status: i32,
}

fn go(fs: &mut Fs, user: &str, stdin: &str, argv: &[&str]) -> R {
    let o = run(
        fs,
        &world(),
        &Spec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            user: user.into(),
            stdin: stdin.as_bytes().to_vec(),
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            ..Default::default()
        },
    )
    .expect("starts");
    R {
        out: o.transcript.stream(Stream::Stdout),
        err: o.transcript.stream(Stream::Stderr),
        status: o.status,
    }
}

fn r(fs: &mut Fs, argv: &[&str]) -> R {
    go(fs, "", "", argv)
}

fn alpine() -> Fs {
    image_fs("alpine:3.20")
}

fn debian() -> Fs {
    image_fs("debian:bookworm")
}

/// Makes `path` a native program of the image (filler bytes).
fn native(fs: &mut Fs, path: &str) {
    fs.write(
        path,
        crate::layer::Content::Filler { seed: 1, len: 100 },
        0o755,
        crate::userland::fs::Cred::ROOT,
    )
    .unwrap();
}

fn write(fs: &mut Fs, path: &str, text: &str) {
    fs.write(
        path,
        crate::layer::Content::bytes(text.as_bytes().to_vec()),
        0o644,
        crate::userland::fs::Cred::ROOT,
    )
    .unwrap();
}

#[test]
fn missing_files_are_reported_in_each_dialect() {
    let mut a = alpine();
    let x = r(&mut a, &["ls", "/x"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("ls: /x: No such file or directory\n", 1)
    );
    let x = r(&mut a, &["rm", "x"]);
    assert_eq!(x.err, "rm: can't remove 'x': No such file or directory\n");
    assert_eq!(x.status, 1);
    let x = r(&mut a, &["cat", "/nope"]);
    assert_eq!(
        x.err,
        "cat: can't open '/nope': No such file or directory\n"
    );
    let mut d = debian();
    let x = r(&mut d, &["ls", "/x"]);
    assert_eq!(x.err, "ls: cannot access '/x': No such file or directory\n");
    assert_eq!(x.status, 2);
    let x = r(&mut d, &["rm", "x"]);
    assert_eq!(x.err, "rm: cannot remove 'x': No such file or directory\n");
    let x = r(&mut d, &["cat", "/nope"]);
    assert_eq!(x.err, "cat: /nope: No such file or directory\n");
    assert_eq!(r(&mut d, &["rm", "-f", "x"]).status, 0);
}

#[test]
fn non_root_cannot_create_in_roots_directories() {
    let mut a = alpine();
    assert_eq!(r(&mut a, &["adduser", "-D", "app"]).status, 0);
    let x = go(&mut a, "app", "", &["mkdir", "/x"]);
    assert_eq!(
        x.err,
        "mkdir: can't create directory '/x': Permission denied\n"
    );
    assert_eq!(x.status, 1);
    let x = go(&mut a, "app", "", &["touch", "/etc/x"]);
    assert_eq!(x.err, "touch: /etc/x: Permission denied\n");
    let x = go(&mut a, "app", "", &["rm", "/etc/passwd"]);
    assert_eq!(x.err, "rm: can't remove '/etc/passwd': Permission denied\n");
    let x = go(&mut a, "app", "", &["chown", "app", "/home/app"]);
    assert_eq!(x.status, 0, "{}", x.err);
    let x = go(&mut a, "app", "", &["chown", "root", "/home/app"]);
    assert_eq!(x.err, "chown: /home/app: Operation not permitted\n");
    // In its own home it may.
    let x = go(&mut a, "app", "", &["mkdir", "/home/app/data"]);
    assert_eq!(x.status, 0);
    assert_eq!(a.stat("/home/app/data", true).unwrap().uid, 1000);
    let mut d = debian();
    r(&mut d, &["useradd", "-m", "app"]);
    let x = go(&mut d, "app", "", &["mkdir", "/x"]);
    assert_eq!(
        x.err,
        "mkdir: cannot create directory '/x': Permission denied\n"
    );
    let x = go(&mut d, "app", "", &["chown", "root", "/home/app"]);
    assert_eq!(
        x.err,
        "chown: changing ownership of '/home/app': Operation not permitted\n"
    );
}

#[test]
fn busybox_adduser_and_addgroup_write_the_databases() {
    let mut a = alpine();
    assert_eq!(r(&mut a, &["addgroup", "-S", "app"]).status, 0);
    let x = r(&mut a, &["adduser", "-S", "-G", "app", "app"]);
    assert_eq!((x.status, x.err.as_str()), (0, ""));
    let passwd = a.read_string("/etc/passwd").unwrap();
    assert!(
        passwd.ends_with("app:x:100:101:Linux User,,,:/home/app:/bin/false\n"),
        "{passwd}"
    );
    let group = a.read_string("/etc/group").unwrap();
    assert!(group.ends_with("app:x:101:app\n"), "{group}");
    let shadow = a.read_string("/etc/shadow").unwrap();
    assert!(shadow.ends_with("app:!:20758:0:99999:7:::\n"), "{shadow}");
    let h = a.stat("/home/app", true).unwrap();
    assert_eq!((h.uid, h.gid, h.mode), (100, 101, 0o2755));
    let x = r(&mut a, &["id", "app"]);
    assert_eq!(x.out, "uid=100(app) gid=101(app) groups=101(app)\n");
    // Normal users get uid 1000 and their own group.
    r(&mut a, &["adduser", "-D", "-u", "1234", "bob"]);
    assert!(
        a.read_string("/etc/passwd")
            .unwrap()
            .ends_with("bob:x:1234:1234:Linux User,,,:/home/bob:/bin/sh\n")
    );
    assert!(
        a.read_string("/etc/group")
            .unwrap()
            .ends_with("bob:x:1234:\n")
    );
    let x = r(&mut a, &["adduser", "-D", "bob"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("adduser: user 'bob' in use\n", 1)
    );
    let x = r(&mut a, &["addgroup", "app"]);
    assert_eq!(x.err, "addgroup: group 'app' in use\n");
    let x = r(&mut a, &["adduser", "-D", "-G", "nosuch", "carl"]);
    assert_eq!(x.err, "adduser: unknown group nosuch\n");
    let x = go(&mut a, "app", "", &["adduser", "-D", "eve"]);
    assert_eq!(x.err, "adduser: permission denied (are you root?)\n");
}

#[test]
fn debian_useradd_groupadd_and_adduser() {
    let mut d = debian();
    assert_eq!(r(&mut d, &["groupadd", "-r", "app"]).status, 0);
    let x = r(&mut d, &["useradd", "-r", "-g", "app", "app"]);
    assert_eq!((x.status, x.err.as_str()), (0, ""));
    assert!(
        d.read_string("/etc/passwd")
            .unwrap()
            .ends_with("app:x:999:999::/home/app:/bin/sh\n")
    );
    assert!(
        d.read_string("/etc/group")
            .unwrap()
            .ends_with("app:x:999:\n")
    );
    assert!(
        d.read_string("/etc/gshadow")
            .unwrap()
            .ends_with("app:!::\n")
    );
    assert!(!d.exists("/home/app"));
    let x = r(&mut d, &["useradd", "-m", "-s", "/bin/bash", "dev"]);
    assert_eq!(x.status, 0);
    assert!(
        d.read_string("/etc/passwd")
            .unwrap()
            .ends_with("dev:x:1000:1000::/home/dev:/bin/bash\n")
    );
    assert!(
        d.read_string("/etc/shadow")
            .unwrap()
            .ends_with("dev:!:20758:0:99999:7:::\n")
    );
    let h = d.stat("/home/dev", true).unwrap();
    assert_eq!((h.uid, h.gid, h.mode), (1000, 1000, 0o755));
    let x = r(&mut d, &["useradd", "dev"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("useradd: user 'dev' already exists\n", 9)
    );
    let x = r(&mut d, &["useradd", "-g", "nosuch", "z"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("useradd: group 'nosuch' does not exist\n", 6)
    );
    let x = r(&mut d, &["groupadd", "app"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("groupadd: group 'app' already exists\n", 9)
    );
    let x = r(
        &mut d,
        &["adduser", "--system", "--group", "--no-create-home", "svc"],
    );
    assert_eq!(x.status, 0, "{}", x.err);
    assert!(
        d.read_string("/etc/passwd")
            .unwrap()
            .ends_with("svc:x:100:101::/nonexistent:/usr/sbin/nologin\n")
    );
    let x = r(&mut d, &["id", "dev"]);
    assert_eq!(x.out, "uid=1000(dev) gid=1000(dev) groups=1000(dev)\n");
}

#[test]
fn id_and_whoami_read_the_image() {
    let mut a = alpine();
    let x = r(&mut a, &["id"]);
    assert_eq!(
        x.out,
        "uid=0(root) gid=0(root) groups=0(root),1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),26(tape),27(video)\n"
    );
    assert_eq!(r(&mut a, &["whoami"]).out, "root\n");
    let x = go(&mut a, "1234", "", &["whoami"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("whoami: unknown uid 1234\n", 1)
    );
    let mut d = debian();
    assert_eq!(
        r(&mut d, &["id"]).out,
        "uid=0(root) gid=0(root) groups=0(root)\n"
    );
    assert_eq!(r(&mut d, &["id", "-un"]).out, "root\n");
    let x = go(&mut d, "1234", "", &["whoami"]);
    assert_eq!(x.err, "whoami: cannot find name for user ID 1234\n");
}

#[test]
fn ls_long_formats() {
    let mut a = alpine();
    r(&mut a, &["mkdir", "/app"]);
    write(&mut a, "/app/b.txt", "hello\n");
    r(&mut a, &["ln", "-s", "b.txt", "/app/link"]);
    let x = r(&mut a, &["ls", "-l", "/app"]);
    assert_eq!(
        x.out,
        "total 4\n-rw-r--r--    1 root     root             6 Nov  1 12:00 b.txt\nlrwxrwxrwx    1 root     root             5 Nov  1 12:00 link -> b.txt\n"
    );
    let x = r(&mut a, &["ls", "-la", "/app"]);
    assert!(
        x.out
            .starts_with("total 12\ndrwxr-xr-x    2 root     root          4096 Nov  1 12:00 .\n"),
        "{}",
        x.out
    );
    assert_eq!(r(&mut a, &["ls", "/app"]).out, "b.txt\nlink\n");
    let mut d = debian();
    r(&mut d, &["mkdir", "/app"]);
    write(&mut d, "/app/b.txt", "hello\n");
    r(&mut d, &["chown", "www-data:www-data", "/app/b.txt"]);
    let x = r(&mut d, &["ls", "-l", "/app"]);
    assert_eq!(
        x.out,
        "total 4\n-rw-r--r-- 1 www-data www-data 6 Nov  1 12:00 b.txt\n"
    );
    let x = r(&mut d, &["ls", "-ld", "/etc/passwd"]);
    assert_eq!(
        x.out,
        "-rw-r--r-- 1 root root 839 Nov 11  2024 /etc/passwd\n"
    );
}

#[test]
fn cp_sets_owner_and_mode_as_the_caller_unless_preserving() {
    let mut a = alpine();
    write(&mut a, "/src", "data");
    a.set_meta(
        "/src",
        true,
        Some(0o600),
        Some((Some(65534), Some(65534))),
        Some(5),
    )
    .unwrap();
    r(&mut a, &["cp", "/src", "/dst"]);
    let s = a.stat("/dst", true).unwrap();
    assert_eq!(
        (s.uid, s.mode, s.size, s.mtime),
        (0, 0o600, 4, crate::userland::testing::CLOCK)
    );
    r(&mut a, &["cp", "-a", "/src", "/dst2"]);
    let s = a.stat("/dst2", true).unwrap();
    assert_eq!((s.uid, s.mtime), (65534, 5));
    let x = r(&mut a, &["cp", "/etc", "/e"]);
    assert_eq!(x.err, "cp: omitting directory '/etc'\n");
    assert_eq!(r(&mut a, &["cp", "-r", "/etc", "/e"]).status, 0);
    assert!(a.exists("/e/passwd"));
    let mut d = debian();
    let x = r(&mut d, &["cp", "/etc", "/e"]);
    assert_eq!(x.err, "cp: -r not specified; omitting directory '/etc'\n");
    let x = r(&mut d, &["cp", "/nope", "/e"]);
    assert_eq!(
        x.err,
        "cp: cannot stat '/nope': No such file or directory\n"
    );
}

#[test]
fn mkdir_mv_rmdir_touch_chmod() {
    let mut d = debian();
    assert_eq!(r(&mut d, &["mkdir", "-p", "-m", "700", "/a/b/c"]).status, 0);
    assert_eq!(d.stat("/a/b", true).unwrap().mode, 0o755);
    assert_eq!(d.stat("/a/b/c", true).unwrap().mode, 0o700);
    let x = r(&mut d, &["mkdir", "/a"]);
    assert_eq!(x.err, "mkdir: cannot create directory '/a': File exists\n");
    let x = r(&mut d, &["rmdir", "/a"]);
    assert_eq!(x.err, "rmdir: failed to remove '/a': Directory not empty\n");
    r(&mut d, &["touch", "-d", "2020-01-02 03:04:05", "/a/f"]);
    assert_eq!(d.stat("/a/f", true).unwrap().mtime, 1_577_934_245);
    r(&mut d, &["mv", "/a/f", "/a/b"]);
    assert!(d.exists("/a/b/f"));
    r(&mut d, &["chmod", "-R", "u+x,go-rwx", "/a"]);
    assert_eq!(d.stat("/a/b/f", true).unwrap().mode, 0o700);
    let x = r(&mut d, &["rm", "/a"]);
    assert_eq!(x.err, "rm: cannot remove '/a': Is a directory\n");
    assert_eq!(r(&mut d, &["rm", "-rf", "/a"]).status, 0);
    assert!(!d.exists("/a"));
    let mut a = alpine();
    r(&mut a, &["mkdir", "/a"]);
    write(&mut a, "/a/f", "");
    assert_eq!(
        r(&mut a, &["rmdir", "/a"]).err,
        "rmdir: '/a': Directory not empty\n"
    );
    assert_eq!(r(&mut a, &["rm", "/a"]).err, "rm: '/a' is a directory\n");
    assert_eq!(
        r(&mut a, &["chmod", "755", "/nope"]).err,
        "chmod: /nope: No such file or directory\n"
    );
}

#[test]
fn chown_resolves_names_and_reports_unknown_ones() {
    let mut a = alpine();
    r(&mut a, &["addgroup", "-S", "appgroup"]);
    r(&mut a, &["adduser", "-S", "-G", "appgroup", "appuser"]);
    r(&mut a, &["mkdir", "-p", "/app/sub"]);
    write(&mut a, "/app/sub/f", "x");
    assert_eq!(
        r(&mut a, &["chown", "-R", "appuser:appgroup", "/app"]).status,
        0
    );
    let s = a.stat("/app/sub/f", true).unwrap();
    assert_eq!((s.uid, s.gid), (100, 101));
    assert_eq!(
        r(&mut a, &["chown", "nobody1", "/app"]).err,
        "chown: unknown user nobody1\n"
    );
    assert_eq!(
        r(&mut a, &["chown", "appuser:nog", "/app"]).err,
        "chown: unknown group nog\n"
    );
    let mut d = debian();
    assert_eq!(
        r(&mut d, &["chown", "nobody1", "/tmp"]).err,
        "chown: invalid user: 'nobody1'\n"
    );
    assert_eq!(
        r(&mut d, &["chown", ":nog", "/tmp"]).err,
        "chown: invalid group: ':nog'\n"
    );
}

#[test]
fn text_filters() {
    let mut d = debian();
    let x = go(&mut d, "", "b 2\na 10\nc 1\na 10\n", &["sort", "-k2", "-n"]);
    assert_eq!(x.out, "c 1\nb 2\na 10\na 10\n");
    let x = go(&mut d, "", "b\na\nb\nb\n", &["uniq", "-c"]);
    assert_eq!(x.out, "      1 b\n      1 a\n      2 b\n");
    // debian's fixture has no /usr/bin/cut: cut is tried on alpine.
    let x = go(&mut alpine(), "", "root:x:0:0\n", &["cut", "-d:", "-f1,3"]);
    assert_eq!(x.out, "root:0\n");
    assert_eq!(
        go(&mut d, "", "hello\n", &["tr", "a-z", "A-Z"]).out,
        "HELLO\n"
    );
    assert_eq!(
        go(&mut d, "", "1\n2\n3\n", &["head", "-n", "2"]).out,
        "1\n2\n"
    );
    assert_eq!(go(&mut d, "", "1\n2\n3\n", &["tail", "-1"]).out, "3\n");
    assert_eq!(
        go(&mut d, "", "1\n2\n3\n", &["tail", "-n", "+2"]).out,
        "2\n3\n"
    );
    assert_eq!(go(&mut d, "", "a b\nc\n", &["wc", "-l"]).out, "2\n");
    assert_eq!(
        go(&mut d, "", "a b\nc\n", &["wc"]).out,
        "      2       3       6\n"
    );
    let mut a = alpine();
    assert_eq!(
        go(&mut a, "", "a b\nc\n", &["wc"]).out,
        "        2         3         6\n"
            .replace("        2         3         6", "      2       3       6")
    );
    assert_eq!(go(&mut a, "", "hi", &["base64"]).out, "aGk=\n");
    assert_eq!(go(&mut a, "", "aGk=\n", &["base64", "-d"]).out, "hi");
    assert_eq!(r(&mut a, &["basename", "/a/b.txt", ".txt"]).out, "b\n");
    assert_eq!(r(&mut a, &["dirname", "/a/b.txt"]).out, "/a\n");
    let x = go(&mut a, "", "x\n", &["tee", "/t"]);
    assert_eq!(x.out, "x\n");
    assert_eq!(a.read_string("/t").unwrap(), "x\n");
}

#[test]
fn grep_modes() {
    let mut d = debian();
    let x = r(&mut d, &["grep", "^root", "/etc/passwd"]);
    assert_eq!(
        (x.out.as_str(), x.status),
        ("root:x:0:0:root:/root:/bin/bash\n", 0)
    );
    let x = r(&mut d, &["grep", "-c", "nologin", "/etc/passwd"]);
    assert_eq!(x.out, "16\n");
    let x = r(&mut d, &["grep", "-n", "-E", "^(root|bin):", "/etc/passwd"]);
    assert_eq!(
        x.out,
        "1:root:x:0:0:root:/root:/bin/bash\n3:bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
    );
    let x = r(&mut d, &["grep", "-q", "nosuchthing", "/etc/passwd"]);
    assert_eq!((x.out.as_str(), x.status), ("", 1));
    let x = r(&mut d, &["grep", "x", "/nope"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("grep: /nope: No such file or directory\n", 2)
    );
    let x = go(&mut d, "", "a.b\naxb\n", &["grep", "-F", "a.b"]);
    assert_eq!(x.out, "a.b\n");
    let x = go(&mut d, "", "ab\nabab\n", &["grep", "\\(ab\\)\\{2\\}"]);
    assert_eq!(x.out, "abab\n");
    let x = go(&mut d, "", "foo bar\nfoobar\n", &["grep", "-ow", "bar"]);
    assert_eq!(x.out, "bar\n");
    r(&mut d, &["mkdir", "-p", "/src/a"]);
    write(&mut d, "/src/a/x.txt", "TODO: one\n");
    write(&mut d, "/src/y.txt", "nothing\n");
    let x = r(&mut d, &["grep", "-ri", "todo", "/src"]);
    assert_eq!(x.out, "/src/a/x.txt:TODO: one\n");
    let x = r(&mut d, &["grep", "-rl", "o", "/src"]);
    assert_eq!(x.out, "/src/a/x.txt\n/src/y.txt\n");
    native(&mut d, "/usr/bin/egrep");
    let x = r(&mut d, &["egrep", "x", "/src/y.txt"]);
    assert_eq!(
        x.err,
        "egrep: warning: egrep is obsolescent; using grep -E\n"
    );
}

#[test]
fn sed_scripts() {
    let mut a = alpine();
    let s = |a: &mut Fs, input: &str, args: &[&str]| {
        let mut v = vec!["sed"];
        v.extend_from_slice(args);
        go(a, "", input, &v)
    };
    assert_eq!(
        s(&mut a, "hello world\n", &["s/o/0/g"]).out,
        "hell0 w0rld\n"
    );
    assert_eq!(
        s(&mut a, "hello world\n", &["s/o/0/2"]).out,
        "hello w0rld\n"
    );
    assert_eq!(
        s(&mut a, "a=1\n", &["-E", "s/(\\w+)=(\\w+)/\\2=\\1 [&]/"]).out,
        "1=a [a=1]\n"
    );
    assert_eq!(s(&mut a, "a\nb\nc\n", &["-n", "2p"]).out, "b\n");
    assert_eq!(s(&mut a, "a\nb\nc\n", &["2d"]).out, "a\nc\n");
    assert_eq!(s(&mut a, "a\nb\nc\n", &["$d"]).out, "a\nb\n");
    assert_eq!(s(&mut a, "a\nb\nc\nd\n", &["/b/,/c/d"]).out, "a\nd\n");
    assert_eq!(s(&mut a, "a\nb\n", &["1a\\\nnew"]).out, "a\nnew\nb\n");
    assert_eq!(s(&mut a, "a\nb\n", &["1i top"]).out, "top\na\nb\n");
    assert_eq!(s(&mut a, "a\nb\n", &["2c changed"]).out, "a\nchanged\n");
    assert_eq!(s(&mut a, "abc\n", &["y/abc/xyz/"]).out, "xyz\n");
    assert_eq!(s(&mut a, "a\nb\n", &["-n", "$="]).out, "2\n");
    assert_eq!(s(&mut a, "a\nb\nc\n", &["2q"]).out, "a\nb\n");
    assert_eq!(s(&mut a, "Hello\n", &["s/hello/bye/I"]).out, "bye\n");
    assert_eq!(
        s(&mut a, "a\nb\n", &["-e", "s/a/A/", "-e", "s/b/B/"]).out,
        "A\nB\n"
    );
    write(&mut a, "/etc/app.conf", "port=80\n");
    assert_eq!(
        r(&mut a, &["sed", "-i", "s/80/8080/", "/etc/app.conf"]).status,
        0
    );
    assert_eq!(a.read_string("/etc/app.conf").unwrap(), "port=8080\n");
    let mut d = debian();
    let x = go(&mut d, "", "a\n", &["sed", "s/a/b"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        (
            "sed: -e expression #1, char 5: unterminated `s' command\n",
            1
        )
    );
    let x = go(&mut d, "", "a\n", &["sed", "k"]);
    assert_eq!(
        x.err,
        "sed: -e expression #1, char 1: unknown command: `k'\n"
    );
}

#[test]
fn find_expressions() {
    let mut d = debian();
    r(&mut d, &["mkdir", "-p", "/app/src/lib", "/app/empty"]);
    write(&mut d, "/app/src/main.py", "print()\n");
    write(&mut d, "/app/src/lib/util.py", "");
    write(&mut d, "/app/README.md", "# app\n");
    let x = r(&mut d, &["find", "/app", "-name", "*.py"]);
    assert_eq!(x.out, "/app/src/lib/util.py\n/app/src/main.py\n");
    let x = r(&mut d, &["find", "/app", "-maxdepth", "1", "-type", "d"]);
    assert_eq!(x.out, "/app\n/app/empty\n/app/src\n");
    let x = r(&mut d, &["find", "/app", "-empty"]);
    assert_eq!(x.out, "/app/empty\n/app/src/lib/util.py\n");
    let x = r(
        &mut d,
        &["find", "/app", "-type", "f", "!", "-name", "*.py"],
    );
    assert_eq!(x.out, "/app/README.md\n");
    let x = r(
        &mut d,
        &[
            "find", "/app", "(", "-name", "*.md", "-o", "-name", "lib", ")", "-print",
        ],
    );
    assert_eq!(x.out, "/app/README.md\n/app/src/lib\n");
    let x = r(
        &mut d,
        &[
            "find", "/app", "-name", "*.py", "-exec", "wc", "-c", "{}", ";",
        ],
    );
    assert_eq!(x.out, "0 /app/src/lib/util.py\n8 /app/src/main.py\n");
    let x = r(&mut d, &["find", "/app", "-name", "*.py", "-delete"]);
    assert_eq!(x.status, 0);
    assert!(!d.exists("/app/src/main.py"));
    let x = r(&mut d, &["find", "/nope"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("find: '/nope': No such file or directory\n", 1)
    );
    let x = r(&mut d, &["find", "/app", "-bogus"]);
    assert_eq!(x.err, "find: unknown predicate `-bogus'\n");
    let mut a = alpine();
    let x = r(&mut a, &["find", "/nope"]);
    assert_eq!(x.err, "find: /nope: No such file or directory\n");
}

#[test]
fn tar_round_trip_and_escapes() {
    let mut a = alpine();
    r(&mut a, &["mkdir", "-p", "/src/dir"]);
    write(&mut a, "/src/dir/f.txt", "content\n");
    assert_eq!(
        r(&mut a, &["tar", "-czf", "/a.tgz", "-C", "/src", "dir"]).status,
        0
    );
    let x = r(&mut a, &["tar", "-tzf", "/a.tgz"]);
    assert_eq!(x.out, "dir/\ndir/f.txt\n");
    r(&mut a, &["mkdir", "/out"]);
    assert_eq!(
        r(
            &mut a,
            &[
                "tar",
                "-xzf",
                "/a.tgz",
                "-C",
                "/out",
                "--strip-components",
                "1"
            ]
        )
        .status,
        0
    );
    assert_eq!(a.read_string("/out/f.txt").unwrap(), "content\n");
    // A member escaping with ../ is refused by GNU tar, stripped by busybox.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    let name = b"../evil";
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_cksum();
    b.append(&h, &b"hi"[..]).unwrap();
    let bytes = b.into_inner().unwrap();
    a.write(
        "/evil.tar",
        crate::layer::Content::bytes(bytes.clone()),
        0o644,
        crate::userland::fs::Cred::ROOT,
    )
    .unwrap();
    let x = r(&mut a, &["tar", "-xf", "/evil.tar", "-C", "/out"]);
    assert_eq!(x.err, "tar: removing leading '../' from member names\n");
    assert!(a.exists("/out/evil") && !a.exists("/evil"));
    let mut d = debian();
    d.write(
        "/evil.tar",
        crate::layer::Content::bytes(bytes),
        0o644,
        crate::userland::fs::Cred::ROOT,
    )
    .unwrap();
    d.mkdir("/out", 0o755, crate::userland::fs::Cred::ROOT, false)
        .unwrap();
    let x = r(&mut d, &["tar", "-xf", "/evil.tar", "-C", "/out"]);
    assert_eq!(
        x.err,
        "tar: ../evil: Member name contains '..'\ntar: Exiting with failure status due to previous errors\n"
    );
    assert_eq!(x.status, 2);
    assert!(!d.exists("/evil"));
}

#[test]
fn gzip_and_zcat() {
    let mut a = alpine();
    write(&mut a, "/f", "hello hello hello\n");
    assert_eq!(r(&mut a, &["gzip", "/f"]).status, 0);
    assert!(!a.exists("/f") && a.exists("/f.gz"));
    assert_eq!(r(&mut a, &["zcat", "/f.gz"]).out, "hello hello hello\n");
    assert_eq!(r(&mut a, &["gunzip", "/f.gz"]).status, 0);
    assert_eq!(a.read_string("/f").unwrap(), "hello hello hello\n");
    let x = r(&mut a, &["gunzip", "/f"]);
    assert_eq!(x.status, 1);
}

#[test]
fn curl_and_wget_have_no_network() {
    let mut d = debian();
    native(&mut d, "/usr/bin/curl");
    let x = r(
        &mut d,
        &["curl", "-fsSL", "-o", "/x", "https://example.com/x"],
    );
    assert_eq!(
        (x.err.as_str(), x.status),
        ("curl: (6) Could not resolve host: example.com\n", 6)
    );
    assert!(!d.exists("/x"));
    let x = r(&mut d, &["curl", "-s", "http://localhost/"]);
    assert_eq!((x.err.as_str(), x.status), ("", 7));
    let x = r(&mut d, &["curl", "http://localhost/"]);
    assert_eq!(
        x.err,
        "curl: (7) Failed to connect to localhost port 80 after 0 ms: Couldn't connect to server\n"
    );
    let mut a = alpine();
    let x = r(&mut a, &["wget", "-q", "-O", "-", "http://example.com/"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("wget: bad address 'example.com'\n", 1)
    );
    native(&mut d, "/usr/bin/wget");
    let x = r(&mut d, &["wget", "-q", "http://example.com/"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        ("wget: unable to resolve host address 'example.com'\n", 4)
    );
}

#[test]
fn system_information() {
    let mut a = alpine();
    assert_eq!(r(&mut a, &["uname", "-m"]).out, "x86_64\n");
    assert_eq!(r(&mut a, &["uname"]).out, "Linux\n");
    assert_eq!(r(&mut a, &["uname", "-r"]).out, "6.10.14-linuxkit\n");
    assert_eq!(r(&mut a, &["date"]).out, "Sun Nov  1 12:00:00 UTC 2026\n");
    assert_eq!(r(&mut a, &["date", "+%Y-%m-%d"]).out, "2026-11-01\n");
    assert_eq!(r(&mut a, &["pwd"]).out, "/\n");
    assert_eq!(r(&mut a, &["which", "ls"]).out, "/bin/ls\n");
    assert_eq!(r(&mut a, &["which", "nosuch"]).status, 1);
    assert_eq!(r(&mut a, &["sleep", "5"]).status, 0);
    assert_eq!(
        r(&mut a, &["printenv", "PATH"]).out,
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );
    let x = r(&mut a, &["env", "-i", "A=1", "env"]);
    assert_eq!(x.out, "A=1\n");
    let x = r(&mut a, &["env", "nosuch"]);
    assert_eq!(
        (x.err.as_str(), x.status),
        (
            "env: can't execute 'nosuch': No such file or directory\n",
            127
        )
    );
    let mut d = debian();
    let x = r(&mut d, &["env", "nosuch"]);
    assert_eq!(x.err, "env: 'nosuch': No such file or directory\n");
    assert_eq!(
        r(&mut d, &["readlink", "-f", "/bin/sh"]).out,
        "/usr/bin/dash\n"
    );
    assert_eq!(r(&mut d, &["realpath", "/bin/../etc"]).out, "/etc\n");
    let x = r(&mut d, &["stat", "-c", "%a %U:%G %s %n", "/etc/passwd"]);
    assert!(x.out.starts_with("644 root:root "), "{}", x.out);
}

#[test]
fn checksums_and_mktemp() {
    let mut a = alpine();
    write(&mut a, "/f", "abc");
    assert_eq!(
        r(&mut a, &["sha256sum", "/f"]).out,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /f\n"
    );
    assert_eq!(
        r(&mut a, &["md5sum", "/f"]).out,
        "900150983cd24fb0d6963f7d28e17f72  /f\n"
    );
    let x = go(
        &mut a,
        "",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /f\n",
        &["sha256sum", "-c", "-"],
    );
    assert_eq!((x.out.as_str(), x.status), ("/f: OK\n", 0));
    let x = go(
        &mut a,
        "",
        "0000000000000000000000000000000000000000000000000000000000000000  /f\n",
        &["sha256sum", "-c", "-"],
    );
    assert_eq!(x.out, "/f: FAILED\n");
    assert_eq!(x.status, 1);
    let t1 = r(&mut a, &["mktemp"]).out;
    let t2 = r(&mut a, &["mktemp", "-d"]).out;
    assert!(t1.starts_with("/tmp/tmp.") && t1 != t2);
    assert!(a.is_dir(t2.trim()));
    let mut b = alpine();
    assert_eq!(r(&mut b, &["mktemp"]).out, t1, "deterministic");
}

#[test]
fn busybox_runs_applets_and_prints_its_banner() {
    let mut a = alpine();
    let x = r(&mut a, &["busybox"]);
    assert!(x.out.starts_with("BusyBox v1.36.1"));
    assert_eq!(r(&mut a, &["busybox", "basename", "/a/b"]).out, "b\n");
    assert_eq!(r(&mut a, &["busybox", "nosuch"]).status, 127);
}

#[test]
fn xargs_install_du() {
    let mut a = alpine();
    write(&mut a, "/f1", "");
    write(&mut a, "/f2", "");
    let x = go(&mut a, "", "/f1 /f2\n", &["xargs", "rm"]);
    assert_eq!(x.status, 0);
    assert!(!a.exists("/f1") && !a.exists("/f2"));
    write(&mut a, "/bin-src", "#!/bin/sh\n");
    assert_eq!(
        r(
            &mut a,
            &[
                "install",
                "-m",
                "750",
                "-o",
                "nobody",
                "/bin-src",
                "/usr/local/bin/tool"
            ]
        )
        .status,
        0
    );
    let s = a.stat("/usr/local/bin/tool", true).unwrap();
    assert_eq!((s.mode, s.uid), (0o750, 65534));
    assert_eq!(r(&mut a, &["install", "-d", "/opt/x/y"]).status, 0);
    assert!(a.is_dir("/opt/x/y"));
    r(&mut a, &["mkdir", "-p", "/d/e"]);
    write(&mut a, "/d/e/f", "x");
    assert_eq!(r(&mut a, &["du", "-s", "/d"]).out, "12\t/d\n");
    assert_eq!(r(&mut a, &["du", "/d"]).out, "8\t/d/e\n12\t/d\n");
}

mod props {
    use super::super::archive::read_members;
    use super::super::grep::translate;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn pattern_translation_never_panics(p in "\\PC{0,20}", ere in any::<bool>()) {
            if let Ok(t) = translate(&p, ere) {
                let _ = regex::Regex::new(&t);
            }
        }

        #[test]
        fn tar_reading_never_panics(b in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = read_members(&b);
        }

        #[test]
        fn sed_scripts_never_panic(s in "[sdpqy/,$0-9a-z\\\\;!{}]{0,16}") {
            static FS: std::sync::OnceLock<crate::userland::fs::Fs> = std::sync::OnceLock::new();
            let mut fs = FS.get_or_init(|| crate::userland::testing::image_fs("busybox:latest")).clone();
            let _ = super::go(&mut fs, "", "a\nb\n", &["sed", &s]);
        }
    }
}

#[test]
fn recursive_listing_and_sizes() {
    let mut a = alpine();
    r(&mut a, &["mkdir", "-p", "/r/s"]);
    write(&mut a, "/r/s/f", &"x".repeat(5000));
    let x = r(&mut a, &["ls", "-R", "/r"]);
    assert_eq!(x.out, "/r:\ns\n\n/r/s:\nf\n");
    let x = r(&mut a, &["ls", "-lh", "/r/s"]);
    assert_eq!(
        x.out,
        "total 8\n-rw-r--r--    1 root     root        4.9K Nov  1 12:00 f\n"
    );
    assert_eq!(r(&mut a, &["du", "-sh", "/r"]).out, "16.0K\t/r\n");
    let x = go(&mut a, "", "b\na\nb\n", &["sort", "-ru"]);
    assert_eq!(x.out, "b\na\n");
    assert_eq!(go(&mut a, "", "a\na\nb\n", &["uniq", "-d"]).out, "a\n");
    assert_eq!(go(&mut a, "", "hello", &["head", "-c", "3"]).out, "hel");
    let x = r(&mut a, &["stat", "-c", "%A %s %F", "/r/s/f"]);
    assert_eq!(x.out, "-rw-r--r-- 5000 regular file\n");
}
