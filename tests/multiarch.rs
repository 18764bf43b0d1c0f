//! Multi-architecture images end to end: buildx builder instances, a
//! multi-platform build pushed as an OCI image index to a `registry:2`
//! container, `docker manifest inspect` and `buildx imagetools inspect`
//! of it, pulls choosing a platform, and an arm64 image run on the amd64
//! host (docker's platform warning).

mod common;
use common::Lab;

fn snap(lab: &Lab, name: &str, text: String) {
    let name = format!("multiarch_{name}");
    lab.settings().bind(|| insta::assert_snapshot!(name, text));
}

const DOCKERFILE: &str = "FROM alpine:3.20\nARG TARGETARCH\nRUN echo built for $TARGETARCH > /arch.txt\nCMD [\"cat\", \"/arch.txt\"]\n";

#[test]
fn builder_instances_create_list_use_inspect_and_remove() {
    let mut lab = Lab::new();
    let o = lab.run("docker buildx ls");
    snap(&lab, "ls_default", o.both());
    let o = lab.run("docker buildx create --name multi --driver docker-container --use");
    assert_eq!(o.code, 0, "{}", o.both());
    assert_eq!(o.stdout, "multi\n");
    let o = lab.run("docker buildx ls");
    snap(&lab, "ls_created", o.both());
    let o = lab.run("docker buildx inspect");
    snap(&lab, "inspect_inactive", o.both());
    let o = lab.run("docker buildx create --name multi");
    assert_eq!(o.code, 1);
    snap(&lab, "create_exists", o.both());
    let o = lab.run("docker buildx use nope");
    assert_eq!(o.code, 1);
    snap(&lab, "use_unknown", o.both());
    lab.ok("docker buildx use default");
    let o = lab.run("docker buildx inspect");
    snap(&lab, "inspect_default", o.both());
    let o = lab.run("docker buildx inspect --bootstrap multi");
    snap(&lab, "inspect_bootstrap", o.both());
    let o = lab.run("docker buildx create");
    assert_eq!(o.code, 0);
    let generated = o.stdout.trim().to_string();
    assert!(generated.contains('_'), "{generated}");
    let o = lab.run(&format!("docker buildx rm {generated}"));
    assert_eq!(o.stderr, format!("{generated} removed\n"));
    let o = lab.run("docker buildx inspect nope");
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr, "ERROR: no builder \"nope\" found\n");
}

#[test]
fn the_docker_driver_refuses_several_platforms() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", DOCKERFILE);
    let o = lab.run("docker buildx build --platform linux/amd64,linux/arm64 -t app .");
    assert_eq!(o.code, 1);
    snap(&lab, "docker_driver_refuses", o.both());
}

#[test]
fn a_multi_platform_build_is_pushed_as_an_index_and_pulled_per_platform() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", DOCKERFILE);
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    lab.ok("docker buildx create --name multi --use");
    // Without --push: the result stays in the builder's cache only.
    let o = lab.run("docker buildx build --progress plain --platform linux/amd64,linux/arm64 -t localhost:5000/app:1 .");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "build_no_output", o.both());
    let o = lab.run("docker images -q");
    let images = lab.run("docker images --format '{{.Repository}}:{{.Tag}}'");
    assert!(
        !images.stdout.contains("<none>") && !images.stdout.contains("app"),
        "nothing loaded: {}",
        o.stdout
    );
    let o = lab.run("docker buildx build --progress plain --platform linux/amd64,linux/arm64 -t localhost:5000/app:1 --push .");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "build_push", o.both());
    let o = lab.run("docker manifest inspect localhost:5000/app:1");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "manifest_inspect_index", o.both());
    let o = lab.run("docker buildx imagetools inspect localhost:5000/app:1");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "imagetools_inspect", o.both());
    let raw = lab.run("docker buildx imagetools inspect --raw localhost:5000/app:1");
    assert!(
        raw.stdout
            .contains("\"application/vnd.oci.image.index.v1+json\"")
    );
    // The arm64 manifest by digest: an OCI image manifest.
    let arm = raw
        .stdout
        .split("\"digest\": \"")
        .nth(2)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let o = lab.run(&format!("docker manifest inspect localhost:5000/app@{arm}"));
    snap(&lab, "manifest_inspect_arm64", o.both());

    // A pull picks the host's platform; --platform another.
    let o = lab.run("docker pull localhost:5000/app:1");
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker run --rm localhost:5000/app:1");
    assert_eq!(o.stdout, "built for amd64\n", "{}", o.both());
    lab.ok("docker rmi localhost:5000/app:1");
    let o = lab.run("docker pull --platform linux/arm64 localhost:5000/app:1");
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker image inspect -f '{{.Os}}/{{.Architecture}}' localhost:5000/app:1");
    assert_eq!(o.stdout, "linux/arm64\n");
    // The classic store keeps one platform per name: inspect --platform
    // checks it (arm64's v8 implied), as the daemon's GetImage does.
    let o = lab.run("docker image inspect --platform arm64 -f '{{.Variant}}' localhost:5000/app:1");
    assert_eq!((o.code, o.stdout.as_str()), (0, "v8\n"), "{}", o.both());
    let o = lab.run("docker image inspect --platform linux/amd64 localhost:5000/app:1");
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (
            1,
            "[]\n",
            "Error response from daemon: image with reference localhost:5000/app:1 was found but does not match the specified platform: wanted linux/amd64, actual: linux/arm64/v8\n"
        )
    );
    let o =
        lab.run("docker image inspect --platform linux/arm64/v7 -f '{{.Id}}' localhost:5000/app:1");
    assert_eq!((o.code, o.stdout.as_str()), (1, ""), "{}", o.both());
    assert!(
        o.stderr
            .contains("wanted linux/arm64/v7, actual: linux/arm64/v8"),
        "{}",
        o.stderr
    );
    let o = lab.run("docker image inspect --platform sparc localhost:5000/app:1");
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (
            1,
            "",
            "\"sparc\": unknown operating system or architecture: invalid argument\n"
        )
    );
    // The host is a plain amd64 Linux: no emulator, so the kernel refuses.
    let o = lab.run("docker run --rm localhost:5000/app:1");
    assert_eq!(o.code, 255);
    snap(&lab, "run_arm64_on_amd64", o.both());
    // With QEMU registered through binfmt_misc it runs, still warned.
    lab.ok("docker run --privileged --rm tonistiigi/binfmt --install arm64");
    let o = lab.run("docker run --rm localhost:5000/app:1");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "run_arm64_emulated", o.both());
    let o = lab.run("docker manifest inspect localhost:5000/app:2");
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr, "no such manifest: localhost:5000/app:2\n");
}

#[test]
fn load_refuses_several_platforms_and_push_needs_a_tag() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", DOCKERFILE);
    lab.ok("docker buildx create --name multi --use");
    let o = lab.run("docker buildx build --platform linux/amd64,linux/arm64 --load -t app .");
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "ERROR: docker exporter does not currently support exporting manifest lists\n"
    );
    // A single platform loads into docker's images.
    let o = lab.run("docker buildx build -q --platform linux/arm64 --load -t app .");
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker image inspect -f '{{.Architecture}}' app");
    assert_eq!(o.stdout, "arm64\n");
}

#[test]
fn manifest_create_annotate_and_push_a_docker_manifest_list() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", DOCKERFILE);
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    lab.ok("docker run --privileged --rm tonistiigi/binfmt --install arm64");
    lab.ok("docker build -q -t localhost:5000/app:amd64 .");
    lab.ok("docker build -q --platform linux/arm64 -t localhost:5000/app:arm64 .");
    lab.ok("docker push -q localhost:5000/app:amd64");
    lab.ok("docker push -q localhost:5000/app:arm64");
    let o = lab.run("docker manifest create localhost:5000/app:multi localhost:5000/app:amd64 localhost:5000/app:arm64");
    assert_eq!(o.code, 0, "{}", o.both());
    assert_eq!(o.stdout, "Created manifest list localhost:5000/app:multi\n");
    let o = lab.run("docker manifest create localhost:5000/app:multi localhost:5000/app:amd64");
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "refusing to amend an existing manifest list with no --amend flag\n"
    );
    lab.ok("docker manifest annotate --os linux --arch arm64 --variant v8 localhost:5000/app:multi localhost:5000/app:arm64");
    let o = lab.run("docker manifest annotate localhost:5000/app:multi localhost:5000/app:nope");
    assert_eq!(o.code, 1);
    snap(&lab, "annotate_missing", o.both());
    let o = lab.run("docker manifest push localhost:5000/app:multi");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "manifest_push", o.both());
    let o = lab.run("docker manifest inspect localhost:5000/app:multi");
    snap(&lab, "manifest_inspect_list", o.both());
    // A list in another repository: its entries are copied there first.
    lab.ok("docker manifest create localhost:5000/team/app:multi localhost:5000/app:amd64 localhost:5000/app:arm64");
    let o = lab.run("docker manifest push --purge localhost:5000/team/app:multi");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "manifest_push_other_repo", o.both());
    let o = lab.run("docker manifest push localhost:5000/team/app:multi");
    assert_eq!(o.code, 1, "purged");
    lab.ok("docker rmi localhost:5000/app:arm64");
    let o = lab.run("docker pull --platform linux/arm64 localhost:5000/team/app:multi");
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker image inspect -f '{{.Architecture}}' localhost:5000/team/app:multi");
    assert_eq!(o.stdout, "arm64\n");
}

#[test]
fn emulators_are_registered_with_binfmt_in_a_privileged_container() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", DOCKERFILE);
    // Without an emulator the default builder cannot run an arm64 RUN.
    let o = lab.run("docker build --platform linux/arm64 -t app:arm .");
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("exec /bin/sh: exec format error"),
        "{}",
        o.both()
    );
    let o = lab.run("docker build -q --platform linux/arm64 -t app:arm .");
    snap(&lab, "build_arm64_without_emulator", o.both());
    // An arm64 container fails the same way.
    let o = lab.run("docker run --rm --platform linux/arm64 alpine:3.20 uname -m");
    assert_eq!(o.code, 255);
    snap(&lab, "run_platform_without_emulator", o.both());

    // binfmt reports, and refuses to register without --privileged.
    let o = lab.run("docker run --rm tonistiigi/binfmt");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "binfmt_status_unprivileged", o.both());
    let o = lab.run("docker run --rm tonistiigi/binfmt --install arm64");
    snap(&lab, "binfmt_install_unprivileged", o.both());
    let o = lab.run("docker run --rm --platform linux/arm64 alpine:3.20 uname -m");
    assert_eq!(o.code, 255, "still no emulator");

    let o = lab.run("docker run --privileged --rm tonistiigi/binfmt --install arm64,riscv64");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "binfmt_install", o.both());
    let o = lab.run("docker run --privileged --rm tonistiigi/binfmt --install arm64,nope");
    snap(&lab, "binfmt_install_again", o.both());
    let o = lab.run("docker run --privileged --rm tonistiigi/binfmt");
    snap(&lab, "binfmt_status", o.both());
    let o = lab.run("docker buildx ls");
    snap(&lab, "ls_with_emulators", o.both());

    let o = lab.run("docker run --rm --platform linux/arm64 alpine:3.20 uname -m");
    assert_eq!(o.code, 0, "{}", o.both());
    assert_eq!(o.stdout, "aarch64\n");
    let o = lab.run("docker build -q --platform linux/arm64 -t app:arm .");
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker run --rm app:arm");
    assert_eq!(o.stdout, "built for arm64\n", "{}", o.both());

    let o = lab.run(
        "docker run --privileged --rm tonistiigi/binfmt --uninstall qemu-aarch64,qemu-ppc64le",
    );
    snap(&lab, "binfmt_uninstall", o.both());
    let o = lab.run("docker run --rm app:arm");
    assert_eq!(o.code, 255, "{}", o.both());
    let o = lab.run("docker run --privileged --rm tonistiigi/binfmt --install all");
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker buildx ls");
    snap(&lab, "ls_with_all_emulators", o.both());
}

#[test]
fn a_docker_container_builder_brings_its_own_emulators() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", DOCKERFILE);
    lab.ok("docker buildx create --name multi --driver docker-container --use");
    let o = lab.run("docker buildx build -q --platform linux/arm64 -t app:arm --load .");
    assert_eq!(o.code, 0, "{}", o.both());
    // The image is arm64; the host still cannot run it.
    let o = lab.run("docker run --rm app:arm");
    assert_eq!(o.code, 255, "{}", o.both());
    let o = lab.run("docker buildx inspect");
    snap(&lab, "inspect_container_builder_platforms", o.both());
}

#[test]
fn images_tree_lists_each_image_with_its_platforms() {
    let mut lab = Lab::new();
    lab.ok("docker pull -q alpine:3.20");
    lab.ok("docker pull -q --platform linux/arm64 alpine:3.20");
    lab.ok("docker tag alpine:3.20 base:arm");
    lab.write("Dockerfile", "FROM scratch\nCOPY Dockerfile /\n");
    lab.ok("docker build -q -t app:1 .");
    lab.write("Dockerfile", "FROM scratch\nCOPY Dockerfile /\nLABEL v=2\n");
    lab.ok("docker build -q -t app:1 .");
    lab.ok("docker run -d --platform linux/arm64 alpine:3.20 sleep 100");
    // The amd64 pull that alpine:3.20 no longer names hangs below it; the
    // app:1 rebuilt leaves an <untagged> image; U marks what a container uses.
    let o = lab.run("docker images --tree");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "images_tree", o.both());
    // Filters and the repository argument select as in the flat listing.
    let o = lab.run("docker image ls --tree --filter dangling=true");
    snap(&lab, "images_tree_dangling", o.both());
    let o = lab.run("docker images --tree app");
    snap(&lab, "images_tree_repository", o.both());
}

#[test]
fn images_tree_refuses_the_flags_it_cannot_show() {
    let mut lab = Lab::new();
    for (flags, want) in [
        ("-q", "--quiet is not yet supported with --tree\n"),
        (
            "--no-trunc",
            "--no-trunc is not yet supported with --tree\n",
        ),
        (
            "--digests",
            "--show-digest is not yet supported with --tree\n",
        ),
        (
            "--format '{{.ID}}'",
            "--format is not yet supported with --tree\n",
        ),
        (
            "-q --format '{{.ID}}'",
            "--quiet is not yet supported with --tree\n",
        ),
    ] {
        let o = lab.run(&format!("docker images --tree {flags}"));
        assert_eq!(
            (o.code, o.stdout.as_str(), o.stderr.as_str()),
            (1, "", want),
            "{flags}"
        );
    }
    // An empty store: the header alone.
    assert_eq!(
        lab.ok("docker images --tree").stdout,
        "IMAGE   ID             DISK USAGE   CONTENT SIZE   EXTRA\n"
    );
}
