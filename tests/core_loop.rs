//! The core loop end to end: build, list, inspect, history, tag, rmi, pull,
//! through the same lines a learner types.

mod common;
use common::{Lab, nginx_context};

#[test]
fn nginx_build_prints_buildkit_plain_progress() {
    let mut lab = Lab::new();
    nginx_context(&lab);
    let out = lab.run("docker build -t my-nginx-app:1.0 .");
    lab.settings()
        .bind(|| insta::assert_snapshot!("nginx_build_plain", out.both()));
}

#[test]
fn nginx_image_reports_exposed_port_as_json() {
    let mut lab = Lab::new();
    nginx_context(&lab);
    lab.ok("docker build -t my-nginx-app:1.0 .");
    let out =
        lab.ok("docker image inspect --format '{{json .Config.ExposedPorts}}' my-nginx-app:1.0");
    assert_eq!(out.stdout, "{\"80/tcp\":{}}\n");
    let cmd = lab.ok("docker image inspect --format '{{.Config.Cmd}}' my-nginx-app:1.0");
    assert_eq!(cmd.stdout, "[nginx -g daemon off;]\n");
}

#[test]
fn same_build_in_two_fresh_homes_gives_the_same_image_id() {
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let mut lab = Lab::new();
            nginx_context(&lab);
            lab.ok("docker build -q -t my-nginx-app:1.0 .").stdout
        })
        .collect();
    assert_eq!(ids[0], ids[1]);
    insta::assert_snapshot!("nginx_image_id", ids[0]);
}

#[test]
fn images_inspect_and_history_after_build() {
    let mut lab = Lab::new();
    nginx_context(&lab);
    lab.ok("docker build -t my-nginx-app:1.0 .");
    lab.ok("docker tag my-nginx-app:1.0 localhost:5000/my-nginx-app:latest");
    let images = lab.ok("docker images");
    let inspect = lab.ok("docker image inspect my-nginx-app:1.0");
    let history = lab.ok("docker history my-nginx-app:1.0");
    let s = lab.settings();
    s.bind(|| {
        insta::assert_snapshot!("images_after_build", images.stdout);
        insta::assert_snapshot!("inspect_after_build", inspect.stdout);
        insta::assert_snapshot!("history_after_build", history.stdout);
    });
}

#[test]
fn rebuild_without_changes_is_cached() {
    let mut lab = Lab::new();
    nginx_context(&lab);
    let first = lab.ok("docker build -q -t app .");
    let again = lab.ok("docker build --progress=plain -t app .");
    assert!(
        again
            .stderr
            .contains("#6 [2/2] COPY index.html /usr/share/nginx/html/index.html\n#6 CACHED"),
        "{}",
        again.stderr
    );
    lab.write("index.html", "changed\n");
    let changed = lab.ok("docker build -q -t app .");
    assert_ne!(first.stdout, changed.stdout);
    // The old image lost its tag and is now dangling.
    let dangling = lab.ok("docker images --filter dangling=true -q");
    assert_eq!(
        dangling.stdout.trim(),
        first
            .stdout
            .trim()
            .trim_start_matches("sha256:")
            .get(..12)
            .unwrap()
    );
}

#[test]
fn pull_prints_docker_progress_and_is_idempotent() {
    let mut lab = Lab::new();
    let first = lab.ok("docker pull alpine");
    let second = lab.ok("docker pull alpine:latest");
    let nginx = lab.ok("docker pull nginx:alpine");
    lab.settings().bind(|| {
        insta::assert_snapshot!("pull_alpine", first.stdout);
        insta::assert_snapshot!("pull_alpine_again", second.stdout);
        insta::assert_snapshot!("pull_nginx_shares_alpine_layer", nginx.stdout);
    });
}

#[test]
fn pull_errors_use_dockers_words() {
    let mut lab = Lab::new();
    let unknown = lab.run("docker pull nosuchimage");
    assert_eq!(unknown.code, 1);
    assert_eq!(
        unknown.stderr,
        "Error response from daemon: pull access denied for nosuchimage, repository does not exist or may require 'docker login': denied: requested access to the resource is denied\n"
    );
    let scratch = lab.run("docker pull scratch");
    assert_eq!(
        scratch.stderr,
        "Error response from daemon: 'scratch' is a reserved name\n"
    );
    let tag = lab.run("docker pull alpine:9.9");
    assert_eq!(
        tag.stderr,
        "Error response from daemon: manifest for alpine:9.9 not found: manifest unknown: manifest unknown\n"
    );
}

#[test]
fn tag_and_rmi_follow_dockers_rules() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine:3.20");
    lab.ok("docker tag alpine:3.20 myorg/base:1.0");
    let id = lab
        .ok("docker images -q alpine:3.20")
        .stdout
        .trim()
        .to_string();
    // By ID with several names: must be forced.
    let conflict = lab.run(&format!("docker rmi {id}"));
    assert_eq!(conflict.code, 1);
    assert_eq!(
        conflict.stderr,
        format!(
            "Error response from daemon: conflict: unable to delete {id} (must be forced) - image is referenced in multiple repositories\n"
        )
    );
    // By name: only untagged while another name remains.
    let untag = lab.ok("docker rmi alpine:3.20");
    assert_eq!(untag.stdout, "Untagged: alpine:3.20\n");
    // The last name: untagged and deleted, with its layer.
    let del = lab.ok("docker rmi myorg/base:1.0");
    lab.settings()
        .bind(|| insta::assert_snapshot!("rmi_last_tag", del.stdout));
    let missing = lab.run("docker rmi myorg/base:1.0");
    assert_eq!(
        missing.stderr,
        "Error response from daemon: No such image: myorg/base:1.0\n"
    );
    assert_eq!(lab.ok("docker images -q").stdout, "");
}

#[test]
fn malformed_references_get_dockers_messages_and_change_nothing() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    let before = std::fs::read(lab.home().join("store/index.json")).unwrap();
    let bad = lab.run("docker tag alpine MyRepo:1");
    assert_eq!(bad.code, 1);
    assert_eq!(
        bad.stderr,
        "Error parsing reference: \"MyRepo:1\" is not a valid repository/tag: invalid reference format: repository name (library/MyRepo) must be lowercase\n"
    );
    let space = lab.run("docker tag alpine 'repo:bad tag'");
    assert_eq!(
        space.stderr,
        "Error parsing reference: \"repo:bad tag\" is not a valid repository/tag: invalid reference format\n"
    );
    let args = lab.run("docker tag alpine");
    assert_eq!(
        args.stderr,
        "docker: 'docker tag' requires 2 arguments\n\nUsage:  docker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nRun 'docker tag --help' for more information\n"
    );
    assert_eq!(
        std::fs::read(lab.home().join("store/index.json")).unwrap(),
        before
    );
}

#[test]
fn missing_image_and_missing_context_are_clear_errors() {
    let mut lab = Lab::new();
    let inspect = lab.run("docker image inspect nope");
    assert_eq!(
        (
            inspect.code,
            inspect.stdout.as_str(),
            inspect.stderr.as_str()
        ),
        (
            1,
            "[]\n",
            "Error response from daemon: No such image: nope:latest\n"
        )
    );
    let build = lab.run("docker build -t x ./nowhere");
    assert_eq!(build.code, 1);
    assert!(
        build.stderr.ends_with(
            "ERROR: unable to prepare context: path \"[LAB]/work/./nowhere\" not found\n"
                .replace("[LAB]", &lab.dir.path().to_string_lossy())
                .as_str()
        ),
        "{}",
        build.stderr
    );
    assert!(
        !lab.home().join("store/index.json").exists(),
        "a failed build stores nothing"
    );
}

#[test]
fn corrupted_blob_is_detected_and_the_store_is_left_as_it_was() {
    let mut lab = Lab::new();
    nginx_context(&lab);
    let id = lab.ok("docker build -q -t app .").stdout.trim().to_string();
    let blob = lab
        .home()
        .join("store/blobs/sha256")
        .join(id.trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&blob, &bytes).unwrap();
    let index_before = std::fs::read(lab.home().join("store/index.json")).unwrap();
    let out = lab.run("docker image inspect app");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(&format!("blob {id} is corrupted")),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(lab.home().join("store/index.json")).unwrap(),
        index_before
    );
    assert_eq!(
        std::fs::read(&blob).unwrap(),
        bytes,
        "the damaged blob is kept for inspection, not rewritten"
    );
}

#[test]
fn corrupted_layer_is_detected_when_read() {
    let mut lab = Lab::new();
    nginx_context(&lab);
    lab.ok("docker build -q -t app .");
    let layers = lab.home().join("store/layers");
    let tar = std::fs::read_dir(&layers)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "tar"))
        .unwrap();
    let mut bytes = std::fs::read(&tar).unwrap();
    let i = bytes.len() / 3;
    bytes[i] ^= 0x20;
    std::fs::write(&tar, bytes).unwrap();
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("app").unwrap();
    let err = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap_err();
    assert!(err.to_string().contains("is corrupted"), "{err}");
}

#[test]
fn dockerfile_parse_error_shows_buildkits_excerpt() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine\n\nRUNN echo hi\nCMD [\"sh\"]\n");
    let out = lab.run("docker build .");
    assert_eq!(out.code, 1);
    lab.settings()
        .bind(|| insta::assert_snapshot!("parse_error", out.stderr));
}

#[test]
fn missing_copy_source_fails_like_buildkit() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine\nCOPY nothere.txt /\n");
    let out = lab.run("docker build .");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("\"/nothere.txt\": not found"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("   2 | >>> COPY nothere.txt /\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_flags_and_commands_use_dockers_words() {
    let mut lab = Lab::new();
    let flag = lab.run("docker images --bogus");
    assert_eq!(
        (flag.code, flag.stderr.as_str()),
        (125, "unknown flag: --bogus\nSee 'docker images --help'.\n")
    );
    let cmd = lab.run("docker frobnicate");
    assert_eq!(cmd.code, 1);
    assert_eq!(
        cmd.stderr,
        "docker: 'frobnicate' is not a docker command.\nSee 'docker --help'\n"
    );
}

#[test]
fn copy_dot_respects_dockerignore_and_never_follows_links_out_of_the_context() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM scratch\nCOPY . /\n");
    lab.write(".dockerignore", "*.log\nsecrets/\n!secrets/public.txt\n");
    lab.write("app/main.py", "print('hi')\n");
    lab.write("debug.log", "noise\n");
    lab.write("secrets/key.pem", "private\n");
    lab.write("secrets/public.txt", "public\n");
    std::os::unix::fs::symlink("/etc/passwd", lab.work().join("passwd-link")).unwrap();
    lab.ok("docker build -q -t ctx .");
    let engine = lab.session.engine().unwrap();
    let img = engine.lookup("ctx").unwrap();
    let fs = engine
        .rootfs(&imagelab::engine::diff_ids_of(&img.config))
        .unwrap();
    let mut paths: Vec<&str> = fs.entries.keys().map(String::as_str).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            ".dockerignore",
            "Dockerfile",
            "app",
            "app/main.py",
            "passwd-link",
            "secrets",
            "secrets/public.txt"
        ]
    );
    assert!(
        matches!(&fs.get("passwd-link").unwrap().kind, imagelab::layer::Kind::Symlink(t) if t == "/etc/passwd")
    );
    assert_eq!(fs.read("app/main.py").unwrap(), b"print('hi')\n");
}

#[test]
fn copy_sources_cannot_climb_out_of_the_context() {
    let mut lab = Lab::new();
    lab.write("ctx/Dockerfile", "FROM scratch\nCOPY ../outside.txt /x\n");
    lab.write("outside.txt", "secret\n");
    let out = lab.run("docker build ctx");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("\"/outside.txt\": not found"),
        "{}",
        out.stderr
    );
}

#[test]
fn images_q_prints_an_image_id_once_per_tag_as_docker_cli_does() {
    let mut lab = Lab::new();
    lab.ok("docker pull -q alpine:3.20");
    lab.ok("docker tag alpine:3.20 base:1");
    lab.ok("docker tag alpine:3.20 reg.example/base:2");
    let out = lab.ok("docker images -q").stdout;
    let ids: Vec<&str> = out.lines().collect();
    assert_eq!(ids.len(), 3, "{out}");
    assert!(ids.iter().all(|i| *i == ids[0]), "{out}");
}

#[test]
fn reference_filter_matches_like_familiar_match_and_skips_untagged_images() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nLABEL v=1\n");
    lab.ok("docker build -q -t app:1 .");
    lab.write("Dockerfile", "FROM alpine:3.20\nLABEL v=2\n");
    lab.ok("docker build -q -t app:1 .");
    let names = |lab: &mut Lab, f: &str| {
        lab.ok(&format!(
            "docker images --filter '{f}' --format '{{{{.Repository}}}}:{{{{.Tag}}}}'"
        ))
        .stdout
    };
    // `*1` matches `app:1` as a whole (docker tries `repo:tag`, then `repo`).
    assert_eq!(names(&mut lab, "reference=*1"), "app:1\n");
    // The dangling first build has no reference: `*` does not select it.
    assert_eq!(names(&mut lab, "reference=*"), "app:1\n");
    assert_eq!(names(&mut lab, "dangling=true"), "<none>:<none>\n");
}

#[test]
fn dangling_true_with_all_lists_heads_only_not_classic_intermediates() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nLABEL a=1\nLABEL b=2\n");
    lab.ok("DOCKER_BUILDKIT=0 docker build -q -t two .");
    // The intermediate (LABEL a=1) is untagged but has a child.
    let all = lab.ok("docker images -a -q").stdout;
    assert_eq!(all.lines().count(), 3, "{all}");
    assert_eq!(
        lab.ok("docker images -a -q --filter dangling=true").stdout,
        ""
    );
    let kept = lab.ok("docker images -a -q --filter dangling=false").stdout;
    assert_eq!(kept.lines().count(), 2, "{kept}");
}

/// The digest alpine:3.20 is pulled by.
fn alpine_digest(lab: &mut Lab) -> String {
    lab.ok("docker pull -q alpine:3.20");
    let d = lab
        .ok("docker images --digests --format '{{.Digest}}' alpine")
        .stdout
        .trim()
        .to_string();
    lab.ok("docker rmi alpine:3.20");
    d
}

#[test]
fn a_pull_by_digest_records_no_tag_and_the_image_counts_as_dangling() {
    let mut lab = Lab::new();
    let d = alpine_digest(&mut lab);
    lab.ok(&format!("docker pull -q alpine@{d}"));
    let listed = lab
        .ok("docker images --filter dangling=true --format '{{.Repository}} {{.Tag}}'")
        .stdout;
    assert_eq!(listed, "alpine <none>\n");
    // rmi by ID: the one digest reference goes, then the image; once each.
    let id = lab.ok("docker images -q alpine").stdout.trim().to_string();
    let out = lab.ok(&format!("docker rmi {id}")).stdout;
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("Untagged: "))
            .collect::<Vec<_>>(),
        [format!("Untagged: alpine@{d}")]
    );
}

#[test]
fn rmi_by_id_refuses_a_tag_and_a_digest_in_different_repositories() {
    let mut lab = Lab::new();
    let d = alpine_digest(&mut lab);
    lab.ok(&format!("docker pull -q alpine@{d}"));
    lab.ok(&format!("docker tag alpine@{d} base:1"));
    let id = lab.ok("docker images -q base").stdout.trim().to_string();
    let o = lab.run(&format!("docker rmi {id}"));
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        format!(
            "Error response from daemon: conflict: unable to delete {id} (must be forced) - image is referenced in multiple repositories\n"
        )
    );
    let out = lab.ok(&format!("docker rmi -f {id}")).stdout;
    assert!(
        out.starts_with(&format!(
            "Untagged: base:1\nUntagged: alpine@{d}\nDeleted: "
        )),
        "{out}"
    );
}
