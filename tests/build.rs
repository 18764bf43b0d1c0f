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
            .contains("[stage-2 2/3] COPY --from=build /out/bin/app /app"),
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
