use super::testing::{image_fs, sh, world};
use super::*;

#[test]
fn unknown_programs_fail_as_each_shell_says() {
    let mut fs = image_fs("alpine:3.20");
    let o = sh(&mut fs, "nosuch");
    assert_eq!(o.status, 127);
    assert_eq!(o.transcript.text(), "/bin/sh: nosuch: not found\n");
    let mut fs = image_fs("debian:bookworm");
    let o = sh(&mut fs, "nosuch");
    assert_eq!(o.status, 127);
    assert_eq!(o.transcript.text(), "/bin/sh: 1: nosuch: not found\n");
}

#[test]
fn exec_form_errors_use_runcs_words() {
    let mut fs = image_fs("alpine:3.20");
    let spec = Spec {
        argv: vec!["nosuch".into()],
        ..Spec::default()
    };
    let e = run(&mut fs, &world(), &spec).unwrap_err();
    assert_eq!(
        e.to_string(),
        "exec: \"nosuch\": executable file not found in $PATH"
    );
    let spec = Spec {
        argv: vec!["/bin/echo".into(), "hi".into()],
        user: "appuser".into(),
        ..Spec::default()
    };
    let e = run(&mut fs, &world(), &spec).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unable to find user appuser: no matching entries in passwd file"
    );
}

#[test]
fn a_foreign_or_loaderless_elf_does_not_start() {
    let mut fs = image_fs("alpine:3.20");
    let arm = elf::build(&elf::Spec {
        machine: elf::EM_AARCH64,
        interp: None,
        note: None,
        extra: vec![],
        size: 1000,
        seed: "a".into(),
    });
    let glibc = elf::build(&elf::Spec {
        machine: elf::EM_X86_64,
        interp: Some("/lib64/ld-linux-x86-64.so.2".into()),
        note: None,
        extra: vec![],
        size: 1000,
        seed: "b".into(),
    });
    let root = fs::Cred::ROOT;
    fs.write("/arm", crate::layer::Content::bytes(arm), 0o755, root)
        .unwrap();
    fs.write("/app", crate::layer::Content::bytes(glibc), 0o755, root)
        .unwrap();
    let w = world();
    let err = |fs: &mut Fs, p: &str| {
        run(
            fs,
            &w,
            &Spec {
                argv: vec![p.into()],
                ..Spec::default()
            },
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(err(&mut fs, "/arm"), "exec /arm: exec format error");
    assert_eq!(err(&mut fs, "/app"), "exec /app: no such file or directory");
}

#[test]
fn users_resolve_through_passwd_and_group() {
    let mut fs = image_fs("alpine:3.20");
    let u = resolve_user(&fs, "nobody").unwrap();
    assert_eq!((u.uid, u.gid), (65534, 65534));
    let u = resolve_user(&fs, "1234").unwrap();
    assert_eq!((u.uid, u.gid, u.home.as_str()), (1234, 0, "/"));
    let u = resolve_user(&fs, "1234:5").unwrap();
    assert_eq!((u.uid, u.gid), (1234, 5));
    assert!(matches!(
        resolve_user(&fs, "root:nogroup-here"),
        Err(StartError::NoGroup(_))
    ));
    let _ = &mut fs;
}
