//! `docker save` / `docker load` against real peers, when they are installed
//! (`.ci/run` installs them): `skopeo` reads an archive saved here and sees
//! the same config and layers; `skopeo copy` to an OCI layout then `umoci
//! unpack` gives back the files imagelab built; `podman load` keeps the
//! image ID, layers and history; an image built by `buildah` and written by
//! `podman save --format docker-archive` loads here with the same diff_ids.
//!
//! A missing tool skips its test with `skipped: … not found`; podman and
//! buildah run in a temporary root (`vfs`, chroot isolation) and, where
//! they cannot run at all (a CI container without user namespaces), the
//! test says so and skips.

mod common;
use common::{Lab, containers_tool, have, runs_here};
use imagelab::digest::Digest;
use std::path::Path;
use std::process::{Command, Output};

fn run(c: &mut Command) -> Output {
    let o = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        o.status.success(),
        "{c:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// An image built here: two layers, nested folders. Returns the lab, the
/// archive path, the image ID and the diff_ids.
fn saved_app() -> (Lab, std::path::PathBuf, String, Vec<String>) {
    let mut lab = Lab::new();
    lab.write("hello.txt", "hello from imagelab\n");
    lab.write("site/index.html", "<h1>hi</h1>\n");
    lab.write("site/css/a.css", "body{}\n");
    lab.write(
        "Dockerfile",
        "FROM scratch\nCOPY hello.txt /hello.txt\nCOPY site /srv/site\nCMD [\"/hello\"]\n",
    );
    lab.ok("docker build -q -t app:1 .");
    lab.ok("docker save -o app.tar app:1");
    let id = lab
        .ok("docker image inspect --format {{.Id}} app:1")
        .stdout
        .trim()
        .to_string();
    let layers: Vec<String> = serde_json::from_str(
        &lab.ok("docker image inspect --format '{{json .RootFS.Layers}}' app:1")
            .stdout,
    )
    .unwrap();
    let path = lab.work().join("app.tar");
    (lab, path, id, layers)
}

#[test]
fn skopeo_sees_the_same_config_digest_and_layers() {
    if !have("skopeo") {
        return;
    }
    let (_lab, archive, id, layers) = saved_app();
    let src = format!("docker-archive:{}", archive.display());
    let config = run(Command::new("skopeo").args(["inspect", "--raw", "--config", &src])).stdout;
    assert_eq!(Digest::of(&config).to_string(), id);
    let raw = run(Command::new("skopeo").args(["inspect", "--raw", &src])).stdout;
    let m: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(m["config"]["digest"], id.as_str());
    let got: Vec<&str> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap())
        .collect();
    assert_eq!(got, layers);

    // What skopeo writes as a docker-archive loads back here, same image.
    let (mut other, copy) = (Lab::new(), _lab.dir.path().join("skopeo.tar"));
    run(Command::new("skopeo").args([
        "copy",
        &src,
        &format!("docker-archive:{}:copied:2", copy.display()),
    ]));
    std::fs::copy(&copy, other.work().join("skopeo.tar")).unwrap();
    assert_eq!(
        other.ok("docker load -i skopeo.tar").stdout,
        "Loaded image: copied:2\n"
    );
    assert_eq!(
        other
            .ok("docker image inspect --format {{.Id}} copied:2")
            .stdout
            .trim(),
        id
    );
}

#[test]
fn skopeo_copy_then_umoci_unpack_gives_the_files_built() {
    if !have("skopeo") || !have("umoci") {
        return;
    }
    let (lab, archive, _, _) = saved_app();
    let oci = lab.dir.path().join("oci");
    let bundle = lab.dir.path().join("bundle");
    run(Command::new("skopeo").args([
        "copy",
        &format!("docker-archive:{}", archive.display()),
        &format!("oci:{}:app", oci.display()),
    ]));
    run(Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:app", oci.display()))
        .arg(&bundle));
    let root = bundle.join("rootfs");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    assert_eq!(read("hello.txt"), "hello from imagelab\n");
    assert_eq!(read("srv/site/index.html"), "<h1>hi</h1>\n");
    assert_eq!(read("srv/site/css/a.css"), "body{}\n");
    let mut names: Vec<String> = walk(&root);
    names.sort();
    assert_eq!(
        names,
        [
            "hello.txt",
            "srv",
            "srv/site",
            "srv/site/css",
            "srv/site/css/a.css",
            "srv/site/index.html"
        ]
    );
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().to_string());
            if p.is_dir() && !p.is_symlink() {
                todo.push(p);
            }
        }
    }
    out
}

#[test]
fn podman_load_keeps_config_layers_and_history() {
    let tmp = tempfile::tempdir().unwrap();
    if !runs_here("podman", tmp.path()) {
        return;
    }
    let (lab, archive, id, layers) = saved_app();
    run(containers_tool("podman", tmp.path())
        .args(["load", "-q", "-i"])
        .arg(&archive));
    let out = run(containers_tool("podman", tmp.path()).args([
        "image",
        "inspect",
        id.trim_start_matches("sha256:"),
    ]))
    .stdout;
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let img = &v[0];
    assert_eq!(img["Id"], id.trim_start_matches("sha256:"));
    let got: Vec<&str> = img["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(got, layers);
    let engine = imagelab::engine::Engine::open(lab.home()).unwrap();
    let ours = engine.lookup("app:1").unwrap().config["history"].clone();
    assert_eq!(
        img["History"].as_array().unwrap().len(),
        ours.as_array().unwrap().len()
    );
    for (a, b) in img["History"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ours.as_array().unwrap())
    {
        assert_eq!(a["created_by"], b["created_by"]);
    }
    assert!(
        img["RepoTags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().ends_with("app:1"))
    );
}

#[test]
fn an_image_built_by_buildah_and_saved_by_podman_loads_with_the_same_diff_ids() {
    let tmp = tempfile::tempdir().unwrap();
    if !runs_here("podman", tmp.path()) || !runs_here("buildah", tmp.path()) {
        return;
    }
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(ctx.join("d")).unwrap();
    std::fs::write(ctx.join("hello.txt"), "built by buildah\n").unwrap();
    std::fs::write(ctx.join("d/x"), "x\n").unwrap();
    std::fs::write(
        ctx.join("Containerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\nCOPY d /d\n",
    )
    .unwrap();
    let built = containers_tool("buildah", tmp.path())
        .args(["bud", "--isolation", "chroot", "-t", "localhost/bb:1", "-f"])
        .arg(ctx.join("Containerfile"))
        .arg(&ctx)
        .output()
        .unwrap();
    if !built.status.success() {
        let why = String::from_utf8_lossy(&built.stderr);
        if why.contains("user namespace") || why.contains("operation not permitted") {
            eprintln!("skipped: buildah cannot build here: {}", why.trim());
            return;
        }
        panic!("buildah bud failed: {why}");
    }
    let archive = tmp.path().join("bb.tar");
    run(containers_tool("podman", tmp.path())
        .args(["save", "--format", "docker-archive", "-o"])
        .arg(&archive)
        .arg("localhost/bb:1"));
    let theirs: Vec<String> = serde_json::from_slice(
        &run(containers_tool("podman", tmp.path()).args([
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            "localhost/bb:1",
        ]))
        .stdout,
    )
    .unwrap();
    let mut lab = Lab::new();
    std::fs::copy(&archive, lab.work().join("bb.tar")).unwrap();
    let out = lab.ok("docker load -i bb.tar");
    assert_eq!(out.stdout, "Loaded image: localhost/bb:1\n");
    let ours: Vec<String> = serde_json::from_str(
        &lab.ok("docker image inspect --format '{{json .RootFS.Layers}}' localhost/bb:1")
            .stdout,
    )
    .unwrap();
    assert_eq!(ours, theirs);
    // And the files are readable from the loaded layers.
    lab.ok("docker history localhost/bb:1");
}
