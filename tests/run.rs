//! `RUN` in builds: the command runs in the simulated userland, its output
//! is the step's log, its changes the step's layer; failures as BuildKit and
//! the classic builder report them; history, cache and mounts.

mod common;
use common::Lab;

#[test]
fn a_run_step_shows_its_output_and_leaves_an_empty_layer_when_nothing_changed() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nARG GREETING=hello\nRUN echo $GREETING world\n",
    );
    let out = lab.run("docker build --progress=plain -t hi .");
    assert_eq!(out.code, 0, "{}", out.both());
    let history = lab
        .ok("docker image inspect --format '{{json .RootFS.Layers}}' hi")
        .stdout;
    let created = lab
        .ok("docker history --no-trunc --format '{{.CreatedBy}} {{.Size}}' hi")
        .stdout;
    let again = lab.run("docker build --progress=plain -t hi .");
    lab.settings().bind(|| {
        insta::assert_snapshot!("run_echo_plain", out.both());
        insta::assert_snapshot!("run_echo_layers", history);
        insta::assert_snapshot!("run_echo_history", created);
        insta::assert_snapshot!("run_echo_cached", again.both());
    });
}

#[test]
fn a_failing_run_step_is_reported_as_buildkit_does() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nRUN nosuch --flag\nRUN echo never\n",
    );
    let plain = lab.run("docker build --progress=plain .");
    assert_eq!(plain.code, 1);
    let tty = lab.run("docker build --progress=tty .");
    lab.write("Dockerfile", "FROM debian:bookworm\nRUN [\"nosuch\"]\n");
    let exec = lab.run("docker build --progress=plain .");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nUSER appuser\nRUN echo hi\n",
    );
    let user = lab.run("docker build --progress=plain .");
    lab.settings().bind(|| {
        insta::assert_snapshot!("run_fail_plain", plain.both());
        insta::assert_snapshot!("run_fail_tty", tty.both());
        insta::assert_snapshot!("run_fail_exec_form", exec.both());
        insta::assert_snapshot!("run_fail_user", user.both());
    });
}

#[test]
fn the_classic_builder_runs_in_an_intermediate_container() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo one\nRUN nosuch\n");
    let out = lab.run("DOCKER_BUILDKIT=0 docker build .");
    assert_eq!(out.code, 127, "{}", out.both());
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo one\n");
    let ok = lab.run("DOCKER_BUILDKIT=0 docker build -t one .");
    let again = lab.run("DOCKER_BUILDKIT=0 docker build -t one .");
    lab.settings().bind(|| {
        insta::assert_snapshot!("run_legacy_fail", out.both());
        insta::assert_snapshot!("run_legacy_ok", ok.both());
        insta::assert_snapshot!("run_legacy_cached", again.both());
    });
}

#[test]
fn bad_mounts_and_network_modes_fail_with_the_instruction() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nRUN --mount=type=cache echo hi\n",
    );
    let cache = lab.run("docker build --progress=plain .");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nRUN --mount=type=secret,id=tok,required echo hi\n",
    );
    let secret = lab.run("docker build --progress=plain .");
    lab.write("tok.txt", "s3cret\n");
    let with_secret = lab.run("docker build --progress=plain --secret id=tok,src=tok.txt .");
    assert_eq!(with_secret.code, 0, "{}", with_secret.both());
    lab.settings().bind(|| {
        insta::assert_snapshot!("run_mount_cache_no_target", cache.both());
        insta::assert_snapshot!("run_mount_secret_missing", secret.both());
    });
}
