//! The classic builder (`DOCKER_BUILDKIT=0`): `Step N/M` output, intermediate
//! images that stay in the store and answer `docker history`, its `#(nop)`
//! history, its image cache, `--squash`, and its error texts.

mod common;
use common::Lab;

fn dockerfile(lab: &Lab) {
    lab.write("index.html", "<h1>hello</h1>\n");
    lab.write(
        "Dockerfile",
        "FROM nginx:alpine\nENV APP=web MODE=prod\nWORKDIR /app\nCOPY index.html /usr/share/nginx/html/\nEXPOSE 80\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n",
    );
}

#[test]
fn legacy_build_prints_steps_and_keeps_intermediate_images() {
    let mut lab = Lab::new();
    dockerfile(&lab);
    let first = lab.run("DOCKER_BUILDKIT=0 docker build -t web:1 .");
    assert_eq!(first.code, 0, "{}", first.both());
    let second = lab.run("DOCKER_BUILDKIT=0 docker build -t web:1 .");
    let images = lab.ok("docker images").stdout;
    let all = lab.ok("docker images -a").stdout;
    let history = lab.ok("docker history web:1").stdout;
    let inspect = lab
        .ok("docker image inspect --format '{{.Parent}} {{.DockerVersion}}' web:1")
        .stdout;
    let rmi = lab.ok("docker rmi web:1").stdout;
    let after = lab.ok("docker images -a").stdout;
    lab.settings().bind(|| {
        insta::assert_snapshot!("legacy_first_build", first.both());
        insta::assert_snapshot!("legacy_cached_build", second.both());
        insta::assert_snapshot!("legacy_images", images);
        insta::assert_snapshot!("legacy_images_all", all);
        insta::assert_snapshot!("legacy_history", history);
        insta::assert_snapshot!("legacy_inspect", inspect);
        insta::assert_snapshot!("legacy_rmi", rmi);
        insta::assert_snapshot!("legacy_after_rmi", after);
    });
}

#[test]
fn an_intermediate_image_can_be_the_start_of_another_build() {
    // The course's technique: a failed classic build leaves the last good
    // step's image, which a learner can build from (or run) to debug.
    let mut lab = Lab::new();
    lab.write("a.txt", "a\n");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.19\nCOPY a.txt /a.txt\nCOPY missing.txt /\n",
    );
    let out = lab.run("DOCKER_BUILDKIT=0 docker build -t broken .");
    assert_eq!(out.code, 1);
    let last_good = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix(" ---> "))
        .next_back()
        .unwrap()
        .to_string();
    lab.write(
        "debug/Dockerfile",
        &format!("FROM {last_good}\nCMD [\"cat\", \"/a.txt\"]\n"),
    );
    // BuildKit cannot start FROM an image ID (moby/buildkit#2204) ...
    let bk = lab.run("docker build -q -t debug debug");
    assert!(bk.stderr.contains("pull access denied"), "{}", bk.both());
    // ... the classic builder can.
    lab.ok("DOCKER_BUILDKIT=0 docker build -q -t debug debug");
    let hist = lab
        .ok("docker history --format '{{.CreatedBy}}' debug")
        .stdout;
    assert!(hist.contains("#(nop) COPY file:"), "{hist}");
    lab.settings()
        .bind(|| insta::assert_snapshot!("legacy_failed_copy", out.both()));
}

#[test]
fn legacy_errors_and_switches() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM scratch\nRUNN echo\n");
    let parse = lab.run("DOCKER_BUILDKIT=0 docker build .");
    lab.write("Dockerfile", "FROM scratch\n");
    let empty = lab.run("DOCKER_BUILDKIT=0 docker build .");
    let bad_switch = lab.run("DOCKER_BUILDKIT=maybe docker build .");
    let no_file = lab.run("DOCKER_BUILDKIT=0 docker build -f nope .");
    // `export` reaches later lines; `DOCKER_BUILDKIT=1` is BuildKit again.
    lab.write("Dockerfile", "FROM alpine:3.19\nLABEL a=b\n");
    lab.ok("export DOCKER_BUILDKIT=false");
    let exported = lab.ok("docker build -q .");
    assert!(
        exported.stderr.starts_with("DEPRECATED"),
        "{}",
        exported.both()
    );
    let buildkit = lab.ok("DOCKER_BUILDKIT=1 docker build -q .");
    assert!(buildkit.stderr.is_empty(), "{}", buildkit.both());
    lab.settings().bind(|| {
        insta::assert_snapshot!("legacy_parse_error", parse.both());
        insta::assert_snapshot!("legacy_empty", empty.both());
        insta::assert_snapshot!("legacy_bad_switch", bad_switch.both());
        insta::assert_snapshot!("legacy_no_dockerfile", no_file.both());
    });
}

#[test]
fn legacy_multi_stage_labels_and_squash() {
    let mut lab = Lab::new();
    lab.write("a.txt", "a\n");
    lab.write(
        "Dockerfile",
        "ARG V=3.19\nFROM alpine:${V} AS build\nCOPY a.txt /out/a.txt\nFROM scratch\nCOPY --from=build /out/ /\nCOPY a.txt /b.txt\n",
    );
    let out = lab.run("DOCKER_BUILDKIT=0 docker build --label team=ops --squash -t multi .");
    let images = lab.ok("docker images").stdout;
    let history = lab.ok("docker history multi").stdout;
    let layers = lab
        .ok("docker image inspect --format '{{len .RootFS.Layers}} {{.Config.Labels}}' multi")
        .stdout;
    lab.settings().bind(|| {
        insta::assert_snapshot!("legacy_multi_stage", out.both());
        insta::assert_snapshot!("legacy_multi_images", images);
        insta::assert_snapshot!("legacy_squash_history", history);
    });
    assert_eq!(layers.trim(), "1 map[team:ops]");
}

#[test]
fn buildkit_ignores_squash_with_a_warning_and_writes_iidfile() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.19\nLABEL a=b\n");
    let out = lab.ok("docker build -q --squash --iidfile id.txt .");
    assert!(
        out.stderr
            .starts_with("WARNING: experimental flag squash is removed with BuildKit.")
    );
    let id = std::fs::read_to_string(lab.work().join("id.txt")).unwrap();
    assert_eq!(id, out.stdout.trim());
    assert!(!id.ends_with('\n'));
}

#[test]
fn legacy_warns_of_build_args_no_arg_consumes() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "ARG BASE=alpine:3.19\nFROM $BASE\nARG USED\nLABEL v=$USED\n",
    );
    let out = lab.ok(
        "DOCKER_BUILDKIT=0 docker build --build-arg ZED=1 --build-arg USED=2 --build-arg AAA --build-arg http_proxy=x --build-arg BASE=alpine:3.20 .",
    );
    assert!(
        out.stdout.contains(
            "[Warning] One or more build-args [AAA ZED] were not consumed\nSuccessfully built"
        ),
        "{}",
        out.stdout
    );
    // BuildKit has no such warning (moby/buildkit#2128).
    let bk = lab.ok("docker build --progress=plain --build-arg ZED=1 .");
    assert!(!bk.stderr.contains("not consumed"));
}
