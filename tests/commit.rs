//! Images without a Dockerfile: `docker commit` (the container's writable
//! layer and its config as it ran, `--change`, `-m`, `-a`) and `docker
//! import` (a tarball as the single layer of a new image, from a file or
//! stdin, plain or gzip), with exact digests, and hostile tarballs refused
//! with the store left as it was.

mod common;
use common::Lab;

fn snap(lab: &Lab, name: &str, text: String) {
    let name = format!("commit_{name}");
    lab.settings().bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn commit_keeps_the_writable_layer_and_the_command_the_container_ran() {
    let mut lab = Lab::new();
    lab.ok("docker run --name web alpine:3.20 sh -c 'echo hi > /greeting'");
    let o = lab.run("docker commit -m 'add greeting' -a 'Ann <ann@example.com>' web greet:1");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "commit", o.both());
    let h = lab.ok("docker history greet:1").stdout;
    snap(&lab, "history", h);
    assert_eq!(
        lab.ok("docker run --rm greet:1 cat /greeting").stdout,
        "hi\n"
    );
    // The committed Cmd is the container's: running it again re-runs it.
    let o =
        lab.ok("docker image inspect -f '{{json .Config.Cmd}}|{{.Author}}|{{.Comment}}' greet:1");
    assert_eq!(
        o.stdout,
        "[\"sh\",\"-c\",\"echo hi > /greeting\"]|Ann <ann@example.com>|add greeting\n"
    );
    // --change fixes it.
    let o = lab.run(
        "docker commit --change 'CMD [\"cat\", \"/greeting\"]' -c 'ENV MODE=prod' -c 'EXPOSE 8080' -c 'LABEL team=web' web greet:2",
    );
    assert_eq!(o.code, 0, "{}", o.both());
    assert_eq!(lab.ok("docker run --rm greet:2").stdout, "hi\n");
    let o = lab.ok("docker image inspect -f '{{json .Config.ExposedPorts}} {{index .Config.Labels \"team\"}}' greet:2");
    assert_eq!(o.stdout, "{\"8080/tcp\":{}} web\n");
    assert!(
        lab.ok("docker run --rm greet:2 env")
            .stdout
            .contains("MODE=prod\n")
    );
    // A container that changed nothing commits no layer.
    lab.ok("docker run --name idle alpine:3.20 true");
    lab.ok("docker commit idle same");
    let o = lab.ok("docker image inspect -f '{{len .RootFS.Layers}}' same");
    assert_eq!(o.stdout, "1\n");

    for (line, name) in [
        ("docker commit -c 'RUN echo hi' web", "change_run"),
        ("docker commit -c 'FROM alpine' web", "change_from"),
        ("docker commit nope", "no_container"),
        ("docker commit web Bad:Name", "bad_name"),
        ("docker commit", "no_args"),
    ] {
        let before = lab.ok("docker images -a -q --no-trunc").stdout;
        let o = lab.run(line);
        assert_eq!(o.code, 1, "{line}");
        snap(&lab, name, o.both());
        assert_eq!(
            lab.ok("docker images -a -q --no-trunc").stdout,
            before,
            "{line}"
        );
    }
}

#[test]
fn import_makes_a_single_layer_image_from_a_tarball() {
    let mut lab = Lab::new();
    lab.ok("docker run --name web alpine:3.20 sh -c 'echo hi > /greeting'");
    lab.ok("docker export -o fs.tar web");
    let o = lab.run("docker import fs.tar imported:1");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "import", o.both());
    let h = lab.ok("docker history imported:1").stdout;
    snap(&lab, "import_history", h);
    let o =
        lab.ok("docker image inspect -f '{{len .RootFS.Layers}} {{json .Config.Cmd}}' imported:1");
    assert_eq!(o.stdout, "1 null\n");
    // Without a CMD nothing runs by default; with --change it does.
    let o = lab.run("docker run --rm imported:1");
    assert_eq!(o.code, 125, "{}", o.both());
    let o = lab.run(
        "docker import -c 'CMD [\"cat\", \"/greeting\"]' -m 'from an export' fs.tar imported:2",
    );
    assert_eq!(o.code, 0, "{}", o.both());
    assert_eq!(lab.ok("docker run --rm imported:2").stdout, "hi\n");
    let o = lab.ok("docker history --format '{{.Comment}}' imported:2");
    assert_eq!(o.stdout, "from an export\n");

    // From stdin, gzip-compressed: the same layer.
    let raw = std::fs::read(lab.work().join("fs.tar")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    std::fs::write(lab.work().join("fs.tar.gz"), gz.finish().unwrap()).unwrap();
    let o = lab.run("docker import - gz:1 < fs.tar.gz");
    assert_eq!(o.code, 0, "{}", o.both());
    let a = lab
        .ok("docker image inspect -f '{{json .RootFS.Layers}}' imported:1")
        .stdout;
    let b = lab
        .ok("docker image inspect -f '{{json .RootFS.Layers}}' gz:1")
        .stdout;
    assert_eq!(a, b);
    let o = lab.ok("docker history --format '{{.Comment}}' gz:1");
    assert_eq!(o.stdout, "Imported from -\n");
}

/// A tar whose one member's name is written raw (so it can climb out).
fn raw_tar(name: &str) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_size(1);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.push(b'x');
    out.resize(1024 + 1024, 0);
    out
}

#[test]
fn import_refuses_hostile_or_broken_tarballs_and_changes_nothing() {
    let mut lab = Lab::new();
    std::fs::write(lab.work().join("climb.tar"), raw_tar("../../etc/evil")).unwrap();
    let mut truncated = raw_tar("ok.txt");
    truncated.truncate(300);
    std::fs::write(lab.work().join("short.tar"), truncated).unwrap();
    std::fs::write(
        lab.work().join("text.tar"),
        "not a tar at all, just words\n".repeat(40),
    )
    .unwrap();
    for (line, name) in [
        ("docker import climb.tar evil", "climb"),
        ("docker import short.tar short", "truncated"),
        ("docker import text.tar text", "not_tar"),
        ("docker import missing.tar", "missing"),
        ("docker import http://example.com/rootfs.tar", "url"),
        ("docker import -c 'RUN true' climb.tar", "change_run"),
    ] {
        let o = lab.run(line);
        assert_eq!(o.code, 1, "{line}: {}", o.both());
        snap(&lab, &format!("import_{name}"), o.both());
        assert_eq!(lab.ok("docker images -a -q").stdout, "", "{line}");
    }
    // Nothing was left behind in the store's staging area either.
    let tmp = lab.home().join("store").join("tmp");
    if tmp.is_dir() {
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    }
}
