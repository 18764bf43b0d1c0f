//! Builder behaviour instruction by instruction: the config and history
//! BuildKit would record, stages, COPY options and the build cache.

mod common;
use common::Lab;

fn config(lab: &mut Lab, image: &str) -> serde_json::Value {
    let out = lab.ok(&format!(
        "docker image inspect --format '{{{{json .Config}}}}' {image}"
    ));
    serde_json::from_str(&out.stdout).unwrap()
}

fn history(lab: &mut Lab, image: &str) -> String {
    lab.ok(&format!(
        "docker history --no-trunc --format '{{{{.CreatedBy}}}} | {{{{.Size}}}}' {image}"
    ))
    .stdout
}

#[test]
fn metadata_instructions_set_config_and_history_as_buildkit_does() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        r#"ARG BASE=alpine:3.20
FROM ${BASE}
ARG VERSION=1.0
ENV APP_HOME=/srv/app PATH=/srv/app/bin:$PATH
LABEL org.opencontainers.image.version=$VERSION maintainer="Ada <ada@example.com>"
WORKDIR $APP_HOME
WORKDIR sub
EXPOSE 8080 53/udp 9000-9001
VOLUME ["/data", "/logs"]
USER nobody:nogroup
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD wget -qO- http://localhost:8080/ || exit 1
SHELL ["/bin/sh", "-eu", "-c"]
CMD exec ./server --port 8080
ONBUILD COPY . /srv/app/
"#,
    );
    lab.ok("docker build -q --build-arg VERSION=2.1 -t meta:1 .");
    let cfg = config(&mut lab, "meta:1");
    let hist = history(&mut lab, "meta:1");
    lab.settings().bind(|| {
        insta::assert_json_snapshot!("metadata_config", cfg);
        insta::assert_snapshot!("metadata_history", hist);
    });
}

#[test]
fn entrypoint_clears_an_inherited_cmd_but_keeps_one_set_in_the_stage() {
    let mut lab = Lab::new();
    lab.write(
        "a/Dockerfile",
        "FROM nginx:alpine\nENTRYPOINT [\"/bin/sh\"]\n",
    );
    lab.write(
        "b/Dockerfile",
        "FROM nginx:alpine\nCMD [\"-c\", \"echo hi\"]\nENTRYPOINT [\"/bin/sh\"]\n",
    );
    lab.ok("docker build -q -t a a");
    lab.ok("docker build -q -t b b");
    assert!(config(&mut lab, "a").get("Cmd").is_none());
    assert_eq!(
        config(&mut lab, "b")["Cmd"],
        serde_json::json!(["-c", "echo hi"])
    );
}

#[test]
fn multi_stage_builds_only_what_the_target_needs() {
    let mut lab = Lab::new();
    lab.write("app.txt", "built\n");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20 AS build\nWORKDIR /out\nCOPY app.txt bin/app\n\nFROM busybox AS unused\nCOPY app.txt /x\n\nFROM scratch\nCOPY --from=build /out/bin/app /app\nCOPY --from=busybox /bin/busybox /busybox\n",
    );
    let out = lab.ok("docker build --progress=plain -t ms .");
    assert!(!out.stderr.contains("[unused"), "{}", out.stderr);
    assert!(
        out.stderr.contains("[build 3/3] COPY app.txt bin/app"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("[stage-2 1/2] COPY --from=build /out/bin/app /app"),
        "{}",
        out.stderr
    );
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("ms").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    assert_eq!(fs.read("app").unwrap(), b"built\n");
    assert!(fs.get("busybox").is_some());
    assert_eq!(imagelab::engine::diff_ids_of(&img.config).len(), 2);
    let target = lab.ok("docker build -q --target build -t ms:build .");
    assert_ne!(target.stdout, "");
    assert_eq!(config(&mut lab, "ms:build")["WorkingDir"], "/out");
    let bad = lab.run("docker build --target nope .");
    assert!(
        bad.stderr
            .contains("target stage \"nope\" could not be found"),
        "{}",
        bad.stderr
    );
}

#[test]
fn copy_chown_resolves_names_in_the_image_and_chmod_sets_modes() {
    let mut lab = Lab::new();
    lab.write("run.sh", "#!/bin/sh\n");
    lab.write(
        "Dockerfile",
        "FROM nginx:alpine\nCOPY --chown=nginx:nginx --chmod=750 run.sh /opt/app/run.sh\n",
    );
    lab.ok("docker build -q -t owned .");
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("owned").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    let e = fs.get("opt/app/run.sh").unwrap();
    assert_eq!((e.uid, e.gid, e.mode), (101, 101, 0o750));
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nCOPY --chown=appuser run.sh /run.sh\n",
    );
    let out = lab.run("docker build .");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("can't find uid for user appuser: no such user: appuser"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_changed_file_invalidates_its_step_and_later_ones_only() {
    let mut lab = Lab::new();
    lab.write("a.txt", "a\n");
    lab.write("b.txt", "b\n");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nWORKDIR /w\n",
    );
    lab.ok("docker build -q -t c .");
    lab.write("b.txt", "changed\n");
    let out = lab.ok("docker build --progress=plain -t c .");
    let cached: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.ends_with(" CACHED"))
        .collect();
    assert_eq!(
        cached.len(),
        2,
        "FROM and COPY a.txt stay cached:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("[2/4] COPY a.txt /a.txt\n#")
            && !out.stderr.contains("[3/4] COPY b.txt /b.txt\n#7 CACHED"),
        "{}",
        out.stderr
    );
    let no_cache = lab.ok("docker build --no-cache --progress=plain -t c .");
    assert_eq!(
        no_cache
            .stderr
            .lines()
            .filter(|l| l.ends_with(" CACHED"))
            .count(),
        1,
        "only FROM: {}",
        no_cache.stderr
    );
}

#[test]
fn copy_heredocs_become_files_with_expansion_unless_quoted() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nARG NAME=world\nCOPY <<EOF /etc/greeting\nhello \"$NAME\"\nEOF\nCOPY --chmod=755 <<'A' <<B /opt/\nraw $NAME\nA\ncooked ${NAME}\nB\n",
    );
    let out = lab.ok("docker build --progress=plain -t here .");
    assert!(
        out.stderr.contains("[3/3] COPY --chmod=755 <<A <<B /opt/"),
        "{}",
        out.stderr
    );
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("here").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    assert_eq!(fs.read("etc/greeting").unwrap(), b"hello \"world\"\n");
    assert_eq!(fs.read("opt/A").unwrap(), b"raw $NAME\n");
    assert_eq!(fs.read("opt/B").unwrap(), b"cooked world\n");
    assert_eq!(fs.get("opt/B").unwrap().mode & 0o777, 0o755);
    assert_eq!(fs.get("etc/greeting").unwrap().mode & 0o777, 0o644);
    let hist = history(&mut lab, "here");
    assert!(
        hist.contains("COPY --chmod=755 <<A <<B /opt/ # buildkit"),
        "{hist}"
    );
    assert!(
        hist.contains("COPY <<EOF /etc/greeting # buildkit"),
        "{hist}"
    );
}

#[test]
fn onbuild_triggers_run_in_the_child_build_and_are_not_inherited() {
    let mut lab = Lab::new();
    lab.write(
        "base/Dockerfile",
        "FROM alpine:3.20\nWORKDIR /app\nONBUILD COPY app.txt /app/\nONBUILD LABEL stage=child\n",
    );
    lab.ok("docker build -q -t obbase base");
    assert_eq!(
        config(&mut lab, "obbase")["OnBuild"],
        serde_json::json!(["COPY app.txt /app/", "LABEL stage=child"])
    );
    lab.write("app.txt", "from the child's context\n");
    lab.write(
        "Dockerfile",
        "FROM obbase\nCMD [\"cat\", \"/app/app.txt\"]\n",
    );
    let out = lab.ok("docker build --progress=plain -t child .");
    assert!(
        out.stderr
            .contains("#4 [1/1] FROM docker.io/library/obbase:latest"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("] ONBUILD COPY app.txt /app/"),
        "{}",
        out.stderr
    );
    let cfg = config(&mut lab, "child");
    assert!(cfg.get("OnBuild").is_none(), "{cfg}");
    assert_eq!(cfg["Labels"]["stage"], "child");
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("child").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    assert_eq!(
        fs.read("app/app.txt").unwrap(),
        b"from the child's context\n"
    );
}

#[test]
fn step_numbers_count_from_only_when_it_pulls_an_image() {
    // BuildKit numbers steps per stage; `FROM scratch` and `FROM <stage>`
    // are not steps of their own.
    let mut lab = Lab::new();
    lab.write("a", "a\n");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20 AS base\nCOPY a /a\nFROM base AS two\nCOPY a /b\nFROM scratch\nCOPY --from=two /b /c\n",
    );
    let out = lab.ok("docker build --progress=plain .");
    let steps: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(" [") && !l.contains("[internal]") && !l.contains("CACHED"))
        .filter_map(|l| l.split_once(' ').map(|(_, r)| r))
        .filter(|l| l.starts_with('['))
        .collect();
    let mut uniq = steps.clone();
    uniq.dedup();
    insta::assert_snapshot!(uniq.join("\n"), @r"
    [base 1/2] FROM docker.io/library/alpine:3.20@sha256:a1d232ab19dadfb5f24e07321b2b13f77689c86e2cb0b4d30c7ad1eeb5007baa
    [base 2/2] COPY a /a
    [two 1/1] COPY a /b
    [stage-2 1/1] COPY --from=two /b /c
    ");
}

#[test]
fn lint_warnings_are_summarised_after_the_build() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nENV a b\nCMD echo hi\n");
    let out = lab.ok("docker build --progress=plain .");
    assert!(
        out.stderr.ends_with(concat!(
            "s\n\n",
            " 2 warnings found (use docker --debug to expand):\n",
            " - LegacyKeyValueFormat: \"ENV key=value\" should be used instead of legacy \"ENV key value\" format (line 2)\n",
            " - JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 3)\n",
        )),
        "{}",
        out.stderr
    );
    let quiet = lab.ok("docker build -q .");
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

#[test]
fn platform_flag_and_predefined_platform_args() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM --platform=$BUILDPLATFORM alpine:3.20 AS tools\nARG TARGETARCH BUILDARCH\nLABEL for=$TARGETARCH on=$BUILDARCH\nFROM alpine:3.20\nARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT\nLABEL p=$TARGETPLATFORM os=$TARGETOS arch=$TARGETARCH v=$TARGETVARIANT\nCOPY --from=tools /etc/alpine-release /rel\n",
    );
    lab.ok("docker build -q --platform linux/arm64 -t arm .");
    let out = lab
        .ok("docker image inspect --format '{{.Architecture}}/{{.Variant}} {{json .Config.Labels}}' arm")
        .stdout;
    assert_eq!(
        out.trim(),
        r#"arm64/v8 {"arch":"arm64","os":"linux","p":"linux/arm64","v":""}"#
    );
    lab.ok("docker build -q --platform linux/arm64 --target tools -t tools .");
    let tools = lab
        .ok("docker image inspect --format '{{.Architecture}} {{json .Config.Labels}}' tools")
        .stdout;
    assert_eq!(tools.trim(), r#"amd64 {"for":"arm64","on":"amd64"}"#);
    let bad = lab.run("docker build --platform linux/sparc .");
    assert_eq!(bad.code, 1);
    assert_eq!(
        bad.stderr,
        "ERROR: failed to parse platform linux/sparc: \"linux/sparc\": unknown operating system or architecture: invalid argument\n"
    );
    lab.write("s/Dockerfile", "FROM scratch\nLABEL a=b\n");
    lab.ok("docker build -q --platform linux/arm/v7 -t s s");
    let s = lab
        .ok("docker image inspect --format '{{.Os}}/{{.Architecture}}' s")
        .stdout;
    assert_eq!(s.trim(), "linux/arm");
}

fn targz(entries: &[(&str, &[u8])], link: Option<(&str, &str)>) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (path, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o640);
        h.set_uid(1000);
        h.set_gid(1000);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, path, *data).unwrap();
    }
    if let Some((path, target)) = link {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, path, target).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn add_extracts_local_archives_and_refuses_hostile_ones() {
    let mut lab = Lab::new();
    std::fs::write(
        lab.work().join("app.tar.gz"),
        targz(
            &[("bin/app", b"#!/bin/sh\n"), ("etc/app.conf", b"x=1\n")],
            None,
        ),
    )
    .unwrap();
    lab.write("notes.tar.gz", "not really an archive\n");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nADD app.tar.gz /opt/app\nADD notes.tar.gz /opt/\nCOPY app.tar.gz /copied/\n",
    );
    lab.ok("docker build -q -t unpacked .");
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("unpacked").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    assert_eq!(fs.read("opt/app/bin/app").unwrap(), b"#!/bin/sh\n");
    let conf = fs.get("opt/app/etc/app.conf").unwrap();
    assert_eq!((conf.mode & 0o777, conf.uid, conf.gid), (0o640, 1000, 1000));
    // Not an archive by content: copied as it is. COPY never extracts.
    assert_eq!(
        fs.read("opt/notes.tar.gz").unwrap(),
        b"not really an archive\n"
    );
    assert!(fs.get("copied/app.tar.gz").is_some());

    // A link that climbs out of the destination is refused, and nothing changes.
    std::fs::write(
        lab.work().join("evil.tar.gz"),
        targz(&[("ok.txt", b"fine\n")], Some(("a/l", "../../../etc"))),
    )
    .unwrap();
    lab.write("Dockerfile", "FROM alpine:3.20\nADD evil.tar.gz /srv/\n");
    let before = std::fs::read(lab.home().join("store/index.json")).unwrap();
    let out = lab.run("docker build -q -t evil .");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "ERROR: failed to solve: ADD evil.tar.gz: archive entry \"a/l\": symlink target \"../../../etc\" escapes the destination"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(lab.home().join("store/index.json")).unwrap(),
        before
    );
}

#[test]
fn output_exports_the_stage_files_instead_of_an_image() {
    let mut lab = Lab::new();
    lab.write("app.txt", "artifact\n");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20 AS build\nCOPY app.txt /out/app.txt\nFROM scratch\nCOPY --from=build /out/ /\n",
    );
    let out = lab.ok("docker build --progress=plain -o type=local,dest=dist .");
    assert!(
        out.stderr.contains("exporting to client directory\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("copying files 9B done"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(lab.work().join("dist/app.txt")).unwrap(),
        "artifact\n"
    );
    // No image was stored.
    assert_eq!(lab.ok("docker images -q").stdout, "");
    lab.ok("docker build -q --output type=tar,dest=fs.tar .");
    let entries =
        imagelab::layer::read_tar(std::fs::File::open(lab.work().join("fs.tar")).unwrap()).unwrap();
    let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["app.txt"]);
    let stdout = lab.ok("docker build -q -o - .");
    assert!(stdout.stdout.contains("artifact\n"));
    let bad = lab.run("docker build -o type=local .");
    assert_eq!(bad.stderr, "ERROR: dest is required for local output\n");
}

#[test]
fn build_cache_outlives_rmi_until_builder_prune() {
    let mut lab = Lab::new();
    lab.write("page.html", "<p>cached</p>\n");
    lab.write("Dockerfile", "FROM alpine:3.20\nCOPY page.html /srv/\n");
    lab.ok("docker build -q -t page .");
    lab.ok("docker rmi page");
    // BuildKit keeps its cache after the image goes.
    let again = lab.ok("docker build --progress=plain -t page .");
    assert!(again.stderr.contains("#6 CACHED"), "{}", again.stderr);
    // In use by `page`: not dangling, so plain prune keeps it.
    let kept = lab.ok("docker builder prune -f");
    assert_eq!(kept.stdout, "Total reclaimed space: 0B\n");
    lab.ok("docker rmi page");
    let pruned = lab.ok("docker builder prune -f");
    let lines: Vec<&str> = pruned.stdout.lines().collect();
    assert_eq!(lines[0], "Deleted build cache objects:");
    assert!(lines[1].len() == 25 && lines[1].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(lines[lines.len() - 2], "");
    assert_eq!(lines[lines.len() - 1], "Total reclaimed space: 14B");
    let cold = lab.ok("docker build --progress=plain -t page .");
    assert!(!cold.stderr.contains("#6 CACHED"), "{}", cold.stderr);
    // -a removes records still in use, but not the layers images hold.
    let all = lab.ok("docker builder prune -a -f");
    assert!(all.stdout.starts_with("Deleted build cache objects:\n"));
    assert!(all.stdout.ends_with("\nTotal reclaimed space: 0B\n"));
    assert_eq!(lab.ok("docker images -q page").stdout.len(), 13);
}

#[test]
fn rmi_no_prune_keeps_the_untagged_parents_of_a_classic_build() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nLABEL a=1\nLABEL b=2\n");
    lab.ok("DOCKER_BUILDKIT=0 docker build -q -t two .");
    let out = lab.ok("docker rmi --no-prune two").stdout;
    assert_eq!(out.lines().count(), 2, "{out}");
    // The parent (LABEL a=1) is now a dangling image of its own.
    assert_eq!(
        lab.ok("docker images -q --filter dangling=true")
            .stdout
            .lines()
            .count(),
        1
    );
}

#[test]
fn stdin_dockerfile_and_stdin_tar_context() {
    let mut lab = Lab::new();
    lab.write("df.txt", "FROM alpine:3.20\nLABEL from=stdin\n");
    lab.ok("docker build -q -t s1 - < df.txt");
    assert_eq!(config(&mut lab, "s1")["Labels"]["from"], "stdin");
    lab.write("page.html", "hi\n");
    lab.write("other.df", "FROM alpine:3.20\nCOPY page.html /p.html\n");
    lab.ok("docker build -q -t s2 -f - . < other.df");
    // A Dockerfile on stdin has no context to copy from.
    let out = lab.run("docker build -q - < other.df");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("\"/page.html\": not found"),
        "{}",
        out.stderr
    );
    // A tar on stdin is the context, Dockerfile included.
    std::fs::write(
        lab.work().join("ctx.tar.gz"),
        targz(
            &[
                (
                    "Dockerfile",
                    b"FROM alpine:3.20\nCOPY page.html /from-tar.html\n",
                ),
                ("page.html", b"in the tar\n"),
            ],
            None,
        ),
    )
    .unwrap();
    lab.ok("docker build -q -t s3 - < ctx.tar.gz");
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("s3").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    assert_eq!(fs.read("from-tar.html").unwrap(), b"in the tar\n");
    let both = lab.run("docker build -f - - < df.txt");
    assert_eq!(
        both.stderr,
        "ERROR: invalid argument: can't use stdin for both build context and dockerfile\n"
    );
}

#[test]
fn a_rebuild_after_one_change_keeps_every_file_byte_for_byte() {
    let mut lab = Lab::new();
    let big: String = (0..40_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    lab.write("big.txt", &big);
    lab.write("small.txt", "one\n");
    lab.write("Dockerfile", "FROM scratch\nCOPY . /ctx/\n");
    lab.ok("docker build -q -t c:1 .");
    lab.write("small.txt", "two\n");
    let out = lab.ok("docker build --progress=plain -t c:2 .");
    assert!(
        !out.stderr.contains("COPY . /ctx/\n#5 CACHED"),
        "{}",
        out.stderr
    );

    // The second layer shares most bytes with the first, so the store keeps
    // it in parts; it reads back verified and whole.
    let skels = std::fs::read_dir(lab.home().join("store/layers"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("skel".as_ref()))
        .count();
    assert_eq!(skels, 1);
    let engine = imagelab::engine::Engine::open(lab.home()).unwrap();
    for (tag, small) in [("c:1", "one\n"), ("c:2", "two\n")] {
        let img = engine.lookup(tag).unwrap();
        let fs = engine
            .rootfs(&imagelab::engine::diff_ids_of(&img.config))
            .unwrap();
        assert_eq!(fs.read("ctx/small.txt").unwrap(), small.as_bytes(), "{tag}");
        assert_eq!(fs.read("ctx/big.txt").unwrap(), big.as_bytes(), "{tag}");
    }
    lab.ok("docker rmi c:1");
    let img = engine.lookup("c:2").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    assert_eq!(fs.read("ctx/big.txt").unwrap(), big.as_bytes());
}

#[test]
fn copy_parents_keeps_source_paths_and_exclude_leaves_files_out() {
    let mut lab = Lab::new();
    lab.write("x/a.txt", "a\n");
    lab.write("y/a.txt", "b\n");
    lab.write("src/app/main.py", "print(1)\n");
    lab.write("src/app/debug.log", "log\n");
    lab.write("src/app/tests/t.py", "t\n");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nCOPY --parents x/a.txt y/a.txt /p/\nCOPY --parents ./src/./app/*.py /q/\nCOPY --exclude=*.log --exclude=tests src/app /app/\n",
    );
    let out = lab.run("docker build -q -t parents .");
    assert_eq!(out.code, 0, "{}", out.both());
    let out = lab
        .ok("docker history --no-trunc --format '{{.CreatedBy}}' parents")
        .stdout;
    assert!(
        out.contains("COPY --parents x/a.txt y/a.txt /p/ # buildkit"),
        "{out}"
    );
    // The layer contents, through the engine's root fs.
    let home = lab.home().to_path_buf();
    let engine = imagelab::engine::Engine::open(&home).unwrap();
    let img = engine.lookup("parents").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    for p in ["p/x/a.txt", "p/y/a.txt", "q/app/main.py", "app/main.py"] {
        assert!(fs.get(p).is_some(), "{p} missing");
    }
    for p in ["app/debug.log", "app/tests/t.py", "app/tests", "q/src"] {
        assert!(fs.get(p).is_none(), "{p} should not be there");
    }
}

#[test]
fn copy_link_layers_survive_a_change_below_them() {
    let mut lab = Lab::new();
    lab.write("a.txt", "a\n");
    lab.write("app.txt", "app\n");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nCOPY a.txt /a.txt\nCOPY --link app.txt /srv/app.txt\n",
    );
    lab.ok("docker build -q -t linked .");
    lab.write("a.txt", "changed\n");
    let out = lab.run("docker build --progress=plain -t linked .");
    assert_eq!(out.code, 0, "{}", out.both());
    let step3 = out
        .stderr
        .split("\n\n")
        .find(|b| b.contains("COPY --link app.txt"))
        .unwrap()
        .to_string();
    assert!(step3.contains("CACHED"), "{step3}");
    let step2 = out
        .stderr
        .split("\n\n")
        .find(|b| b.contains("COPY a.txt"))
        .unwrap()
        .to_string();
    assert!(!step2.contains("CACHED"), "{step2}");
}
