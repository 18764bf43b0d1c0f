//! `docker save` and `docker load`: round trips with exact digests, archives
//! in docker's old and new forms and bare OCI layouts, hostile archives
//! refused by name with the store left as it was, and a property test that
//! feeds mutated archives to `load`.

mod common;

use common::Lab;
use imagelab::app::Io;
use imagelab::digest::Digest;
use std::io::Write;
use std::path::Path;

/// One member of a hand-built archive (names written raw, so hostile ones
/// can be made).
enum M<'a> {
    Dir(&'a str),
    File(&'a str, Vec<u8>),
    Sym(&'a str, &'a str),
    Hard(&'a str, &'a str),
}

fn tar_of(members: &[M]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        let mut h = tar::Header::new_old();
        let (name, data, link, kind): (&str, &[u8], &str, tar::EntryType) = match m {
            M::Dir(n) => (n, &[], "", tar::EntryType::Directory),
            M::File(n, d) => (n, d, "", tar::EntryType::Regular),
            M::Sym(n, l) => (n, &[], l, tar::EntryType::Symlink),
            M::Hard(n, l) => (n, &[], l, tar::EntryType::Link),
        };
        {
            let o = h.as_old_mut();
            o.name[..name.len()].copy_from_slice(name.as_bytes());
            o.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_size(data.len() as u64);
        h.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_entry_type(kind);
        h.set_mtime(0);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A layer tar made with the `tar` crate (well-formed names).
fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_704_067_200);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn config_for(diff_ids: &[&Digest]) -> Vec<u8> {
    let ids: Vec<String> = diff_ids.iter().map(|d| d.to_string()).collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "config": {"Cmd": ["/hello"]},
        "created": "2024-01-01T00:00:00Z",
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "COPY hello /hello # buildkit"}],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ids},
    }))
    .unwrap()
}

/// Every file of the store but its tmp folder, with its bytes.
fn store_state(home: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(list) = std::fs::read_dir(dir) else {
            return;
        };
        for e in list.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
            if rel == "tmp" {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let root = home.join("store");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// `name size mode mtime` of each member, in order.
fn listing(bytes: &[u8]) -> String {
    let mut ar = tar::Archive::new(bytes);
    let mut s = String::new();
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        s.push_str(&format!(
            "{} {} {:o} {} {}:{}\n",
            e.path().unwrap().display(),
            h.size().unwrap(),
            h.mode().unwrap(),
            h.mtime().unwrap(),
            h.uid().unwrap(),
            h.gid().unwrap()
        ));
    }
    s
}

fn member(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy() == name {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut v).unwrap();
            return v;
        }
    }
    panic!("no member {name}");
}

fn build_app(lab: &mut Lab) -> String {
    lab.write("hello.txt", "hello from an archive\n");
    lab.write("data/a.txt", "a\n");
    lab.write(
        "Dockerfile",
        "FROM scratch\nCOPY hello.txt /hello.txt\nCOPY data /data\nCMD [\"/hello\"]\n",
    );
    lab.ok("docker build -q -t app:1 .");
    lab.ok("docker image inspect --format {{.Id}} app:1")
        .stdout
        .trim()
        .to_string()
}

#[test]
fn save_then_load_round_trips_with_exact_digests() {
    let mut lab = Lab::new();
    let id = build_app(&mut lab);
    lab.ok("docker tag app:1 example.com/team/app:2");
    lab.ok("docker save -o app.tar app:1 example.com/team/app:2");
    let bytes = std::fs::read(lab.work().join("app.tar")).unwrap();
    let settings = lab.settings();
    settings.bind(|| {
        insta::assert_snapshot!("save_listing", listing(&bytes));
        insta::assert_snapshot!("save_digest", Digest::of(&bytes).to_string());
        insta::assert_snapshot!(
            "save_manifest_json",
            String::from_utf8(member(&bytes, "manifest.json")).unwrap()
        );
        insta::assert_snapshot!(
            "save_index_json",
            String::from_utf8(member(&bytes, "index.json")).unwrap()
        );
        insta::assert_snapshot!(
            "save_repositories",
            String::from_utf8(member(&bytes, "repositories")).unwrap()
        );
    });
    assert_eq!(
        member(&bytes, "oci-layout"),
        br#"{"imageLayoutVersion": "1.0.0"}"#
    );

    // The same save again gives the same bytes; to stdout too.
    lab.ok("docker save -o again.tar app:1 example.com/team/app:2");
    assert_eq!(std::fs::read(lab.work().join("again.tar")).unwrap(), bytes);
    let piped = lab.bin(
        &["docker", "save", "app:1", "example.com/team/app:2"],
        &lab.work(),
    );
    assert_eq!(piped.code, 0, "{}", piped.stderr);

    // Removed, then loaded back: the same image ID and tags.
    lab.ok("docker rmi app:1 example.com/team/app:2");
    let out = lab.ok("docker load -i app.tar");
    settings.bind(|| insta::assert_snapshot!("load_round_trip", out.both()));
    assert_eq!(
        lab.ok("docker image inspect --format {{.Id}} example.com/team/app:2")
            .stdout
            .trim(),
        id
    );
    let files = lab.ok("docker image inspect --format '{{json .RootFS.Layers}}' app:1");
    assert!(files.stdout.contains("sha256:"));

    // Loading again is idempotent, through `<` as standard input too.
    let again = lab.ok("docker load < app.tar");
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn a_catalog_image_saves_and_loads_into_a_fresh_home() {
    let mut lab = Lab::new();
    lab.ok("docker pull busybox");
    lab.ok("docker save -o bb.tar busybox");
    let id = lab
        .ok("docker image inspect --format {{.Id}} busybox")
        .stdout;
    let mut other = Lab::new();
    std::fs::copy(lab.work().join("bb.tar"), other.work().join("bb.tar")).unwrap();
    let out = other.ok("docker load -q -i bb.tar");
    assert_eq!(out.stdout, "Loaded image: busybox:latest\n");
    assert_eq!(
        other
            .ok("docker image inspect --format {{.Id}} busybox")
            .stdout,
        id
    );
    // Its files are there, byte for byte.
    other.ok("docker history busybox");
}

#[test]
fn save_to_a_terminal_and_other_refusals_use_dockers_words() {
    let mut lab = Lab::new();
    build_app(&mut lab);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = {
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            tty: true,
        };
        lab.session.run_line("docker save app:1", &mut io)
    };
    assert_eq!(code, 1);
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "cowardly refusing to save to a terminal. Use the -o flag or redirect\n"
    );
    assert!(out.is_empty());

    let missing = lab.run("docker save -o x.tar app:9");
    assert_eq!(
        (missing.code, missing.stderr.as_str()),
        (1, "Error response from daemon: reference does not exist\n")
    );
    assert!(!lab.work().join("x.tar").exists());
    let nodir = lab.run("docker save -o nope/x.tar app:1");
    assert_eq!(
        nodir.stderr,
        "failed to save image: invalid output path: directory \"nope\" does not exist\n"
    );
    let none = lab.run("docker save");
    assert_eq!(none.code, 1);
    assert!(
        none.stderr
            .starts_with("docker: 'docker save' requires at least 1 argument\n")
    );
    let nofile = lab.run("docker load -i nothing.tar");
    assert_eq!(
        (nofile.code, nofile.stderr.as_str()),
        (1, "open nothing.tar: no such file or directory\n")
    );
    lab.session.interactive = true;
    let empty = lab.run("docker load");
    assert_eq!(
        empty.stderr,
        "requested load from stdin, but stdin is empty\n"
    );
}

/// docker's old format (before 25): `<v1 id>/layer.tar`, `<config>.json`.
#[test]
fn loads_a_hand_built_archive_in_dockers_old_format() {
    let mut lab = Lab::new();
    let layer = layer_tar(&[("hello", b"#!/bin/sh\necho hi\n")]);
    let diff = Digest::of(&layer);
    let config = config_for(&[&diff]);
    let id = Digest::of(&config);
    let v1 = "0f4d2c8e0a7b6f3d1c9e8a5b4f2d1c0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d";
    let manifest = format!(
        r#"[{{"Config":"{}.json","RepoTags":["old:1"],"Layers":["{v1}/layer.tar"]}}]"#,
        id.hex()
    );
    let cfg_name = format!("{}.json", id.hex());
    let dir = format!("{v1}/");
    let json = format!("{v1}/json");
    let version = format!("{v1}/VERSION");
    let lt = format!("{v1}/layer.tar");
    let archive = tar_of(&[
        M::Dir(&dir),
        M::File(&version, b"1.0".to_vec()),
        M::File(&json, b"{}".to_vec()),
        M::File(&lt, layer),
        M::File(&cfg_name, config),
        M::File("manifest.json", manifest.into_bytes()),
        M::File(
            "repositories",
            format!(r#"{{"old":{{"1":"{v1}"}}}}"#).into_bytes(),
        ),
    ]);
    std::fs::write(lab.work().join("old.tar"), archive).unwrap();
    let out = lab.ok("docker load -i old.tar");
    assert_eq!(out.stdout, "Loaded image: old:1\n");
    assert_eq!(
        lab.ok("docker image inspect --format {{.Id}} old:1").stdout,
        format!("{id}\n")
    );
    let layers = lab.ok("docker image inspect --format '{{json .RootFS.Layers}}' old:1");
    assert_eq!(layers.stdout, format!("[\"{diff}\"]\n"));
}

/// A bare OCI layout (no manifest.json), gzip layer, tag from the
/// containerd name annotation; and an untagged one printing its ID.
#[test]
fn loads_a_hand_built_oci_layout() {
    let mut lab = Lab::new();
    let layer = layer_tar(&[("etc/motd", b"welcome\n")]);
    let diff = Digest::of(&layer);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&layer).unwrap();
    let gz = gz.finish().unwrap();
    let blob = Digest::of(&gz);
    let config = config_for(&[&diff]);
    let cd = Digest::of(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob.to_string(), "size": gz.len()}],
    }))
    .unwrap();
    let md = Digest::of(&manifest);
    let index = |annotated: bool| {
        let mut d = serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md.to_string(),
            "size": manifest.len(),
        });
        if annotated {
            d["annotations"] = serde_json::json!({
                "io.containerd.image.name": "docker.io/library/oci:1",
                "org.opencontainers.image.ref.name": "1",
            });
        }
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [d]})).unwrap()
    };
    let names = [
        format!("blobs/sha256/{}", blob.hex()),
        format!("blobs/sha256/{}", cd.hex()),
        format!("blobs/sha256/{}", md.hex()),
    ];
    for (file, annotated) in [("oci.tar", true), ("bare.tar", false)] {
        let archive = tar_of(&[
            M::File("oci-layout", br#"{"imageLayoutVersion": "1.0.0"}"#.to_vec()),
            M::File("index.json", index(annotated)),
            M::Dir("blobs/"),
            M::Dir("blobs/sha256/"),
            M::File(&names[0], gz.clone()),
            M::File(&names[1], config.clone()),
            M::File(&names[2], manifest.clone()),
        ]);
        std::fs::write(lab.work().join(file), archive).unwrap();
    }
    let out = lab.ok("docker load -i oci.tar");
    assert_eq!(out.stdout, "Loaded image: oci:1\n");
    let bare = lab.ok("docker load -i bare.tar");
    assert_eq!(bare.stdout, format!("Loaded image ID: {cd}\n"));
    let layers = lab.ok("docker image inspect --format '{{json .RootFS.Layers}}' oci:1");
    assert_eq!(layers.stdout, format!("[\"{diff}\"]\n"));
}

/// A valid small archive built by hand, with its parts, for hostile edits.
struct Parts {
    layer: Vec<u8>,
    diff: Digest,
    config: Vec<u8>,
    id: Digest,
}

fn parts() -> Parts {
    let layer = layer_tar(&[("hello", b"hi\n")]);
    let diff = Digest::of(&layer);
    let config = config_for(&[&diff]);
    let id = Digest::of(&config);
    Parts {
        layer,
        diff,
        config,
        id,
    }
}

fn manifest_for(p: &Parts, layer_path: &str) -> Vec<u8> {
    format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["evil:1"],"Layers":["{layer_path}"]}}]"#,
        p.id.hex()
    )
    .into_bytes()
}

/// Loads `archive` and checks it was refused with `expect` in the message
/// and nothing in the store changed.
fn refused(archive: Vec<u8>, expect: &str) {
    let mut lab = Lab::new();
    lab.ok("docker pull busybox");
    let before = store_state(lab.home());
    std::fs::write(lab.work().join("evil.tar"), archive).unwrap();
    let out = lab.run("docker load -i evil.tar");
    assert_eq!(out.code, 1, "{}", out.both());
    assert!(
        out.stderr.contains(expect),
        "expected {expect:?} in {:?}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    assert!(store_state(lab.home()) == before, "store changed");
    let tmp: Vec<_> = std::fs::read_dir(lab.home().join("store/tmp"))
        .unwrap()
        .collect();
    assert!(tmp.is_empty(), "tmp left behind: {tmp:?}");
}

#[test]
fn hostile_member_paths_are_refused_by_name() {
    let p = parts();
    let cfg = format!("blobs/sha256/{}", p.id.hex());
    let lay = format!("blobs/sha256/{}", p.diff.hex());
    let ok_members = |extra: M<'static>| {
        tar_of(&[
            extra,
            M::File(&cfg, p.config.clone()),
            M::File(&lay, p.layer.clone()),
            M::File("manifest.json", manifest_for(&p, &lay)),
        ])
    };
    refused(
        ok_members(M::File("../../escape", b"x".to_vec())),
        "archive member \"../../escape\": path climbs out of the archive root",
    );
    refused(
        ok_members(M::File("/etc/cron.d/evil", b"x".to_vec())),
        "archive member \"/etc/cron.d/evil\": absolute path",
    );
    refused(
        ok_members(M::Sym("out", "../../../etc")),
        "archive member \"out\": symlink to \"../../../etc\" leads out of the archive root",
    );
    refused(
        ok_members(M::Hard("hl", "../../etc/passwd")),
        "archive member \"hl\": hard link to \"../../etc/passwd\" leads out of the archive root",
    );
    // A member written through a symlink planted earlier.
    refused(
        tar_of(&[M::Sym("blobs", "/tmp"), M::File(&cfg, p.config.clone())]),
        "path goes through the link \"blobs\"",
    );
    // manifest.json as a link that leaves the root.
    refused(
        tar_of(&[M::Sym("manifest.json", "../../../../etc/passwd")]),
        "archive member \"manifest.json\": symlink to \"../../../../etc/passwd\" leads out",
    );
}

#[test]
fn wrong_digests_are_refused() {
    let p = parts();
    let cfg = format!("blobs/sha256/{}", p.id.hex());
    let lay = format!("blobs/sha256/{}", p.diff.hex());
    // A layer blob whose bytes are not its name.
    let other = layer_tar(&[("hello", b"HI\n")]);
    refused(
        tar_of(&[
            M::File(&cfg, p.config.clone()),
            M::File(&lay, other.clone()),
            M::File("manifest.json", manifest_for(&p, &lay)),
        ]),
        &format!(
            "archive member \"{lay}\": content hashes to {}",
            Digest::of(&other)
        ),
    );
    // The old format names no digest: the config's diff_id catches it.
    refused(
        tar_of(&[
            M::File(&cfg, p.config.clone()),
            M::File("x/layer.tar", other.clone()),
            M::File("manifest.json", manifest_for(&p, "x/layer.tar")),
        ]),
        &format!(
            "invalid diffID for layer 0: expected \"{}\", got \"{}\"",
            p.diff,
            Digest::of(&other)
        ),
    );
    // A config whose bytes are not its name.
    refused(
        tar_of(&[
            M::File(&cfg, b"{\"rootfs\":{}}".to_vec()),
            M::File(&lay, p.layer.clone()),
            M::File("manifest.json", manifest_for(&p, &lay)),
        ]),
        &format!("archive member \"{cfg}\": content hashes to"),
    );
    // Layer count mismatch.
    let two = format!(r#"[{{"Config":"{cfg}","RepoTags":["evil:1"],"Layers":["{lay}","{lay}"]}}]"#);
    refused(
        tar_of(&[
            M::File(&cfg, p.config.clone()),
            M::File(&lay, p.layer.clone()),
            M::File("manifest.json", two.into_bytes()),
        ]),
        "invalid manifest, layers length mismatch: expected 2, got 1",
    );
}

#[test]
fn a_layer_whose_entries_climb_out_is_refused() {
    // Raw names: `../../etc/profile` inside the layer tar.
    let layer = tar_of(&[M::File("../../etc/profile", b"evil\n".to_vec())]);
    let diff = Digest::of(&layer);
    let config = config_for(&[&diff]);
    let id = Digest::of(&config);
    let cfg = format!("blobs/sha256/{}", id.hex());
    let lay = format!("blobs/sha256/{}", diff.hex());
    let manifest = format!(r#"[{{"Config":"{cfg}","RepoTags":["evil:1"],"Layers":["{lay}"]}}]"#);
    refused(
        tar_of(&[
            M::File(&cfg, config),
            M::File(&lay, layer),
            M::File("manifest.json", manifest.into_bytes()),
        ]),
        &format!(
            "archive member \"{lay}\": layer entry \"../../etc/profile\": path climbs out of the layer root"
        ),
    );
    // A symlink inside a layer is content: it loads.
    let mut lab = Lab::new();
    let layer = {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, "etc/passwd-link", "../../../../etc/passwd")
            .unwrap();
        b.into_inner().unwrap()
    };
    let diff = Digest::of(&layer);
    let config = config_for(&[&diff]);
    let id = Digest::of(&config);
    let cfg = format!("blobs/sha256/{}", id.hex());
    let lay = format!("blobs/sha256/{}", diff.hex());
    let manifest = format!(r#"[{{"Config":"{cfg}","RepoTags":["links:1"],"Layers":["{lay}"]}}]"#);
    let archive = tar_of(&[
        M::File(&cfg, config),
        M::File(&lay, layer),
        M::File("manifest.json", manifest.into_bytes()),
    ]);
    std::fs::write(lab.work().join("links.tar"), archive).unwrap();
    assert_eq!(
        lab.ok("docker load -i links.tar").stdout,
        "Loaded image: links:1\n"
    );
}

#[test]
fn missing_truncated_and_malformed_archives_are_refused() {
    let p = parts();
    let cfg = format!("blobs/sha256/{}", p.id.hex());
    let lay = format!("blobs/sha256/{}", p.diff.hex());
    refused(
        tar_of(&[M::File("hello", b"x".to_vec())]),
        "open /var/lib/docker/tmp/docker-import-2960581245/manifest.json: no such file or directory",
    );
    refused(
        tar_of(&[M::File("manifest.json", b"[{\"Config\": ".to_vec())]),
        "archive member \"manifest.json\": malformed JSON: EOF while parsing",
    );
    refused(
        tar_of(&[M::File("manifest.json", b"null".to_vec())]),
        "invalid manifest, manifest cannot be null (but can be [])",
    );
    refused(
        tar_of(&[
            M::File(&cfg, p.config.clone()),
            M::File("manifest.json", manifest_for(&p, &lay)),
        ]),
        &format!(
            "open /var/lib/docker/tmp/docker-import-2960581245/{lay}: no such file or directory"
        ),
    );
    let whole = tar_of(&[
        M::File(&cfg, p.config.clone()),
        M::File(&lay, p.layer.clone()),
        M::File("manifest.json", manifest_for(&p, &lay)),
    ]);
    // Cut inside the layer's data.
    refused(whole[..512 + 512 + 700].to_vec(), "truncated");
    refused(
        b"this is not a tar at all".to_vec(),
        "archive is corrupt or truncated",
    );
}

#[test]
fn decompression_bombs_are_bounded() {
    let lab = Lab::new();
    let engine = imagelab::engine::Engine::open(lab.home()).unwrap();
    // 64 MiB of zeros in a gzip of about 64 KiB, against a 16 MiB bound.
    let zeros = tar_of(&[M::File("big", vec![0u8; 64 << 20])]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&zeros).unwrap();
    let gz = gz.finish().unwrap();
    assert!(gz.len() < 1 << 20);
    let limits = imagelab::archive::Limits {
        max_total: 16 << 20,
        ..Default::default()
    };
    let before = store_state(lab.home());
    let err = imagelab::archive::load(&engine, &mut &gz[..], &limits).unwrap_err();
    assert_eq!(
        err.to_string(),
        "archive unpacks to more than 16777216 bytes (decompression bomb?)"
    );
    assert_eq!(store_state(lab.home()), before);
    // Too many members.
    let many: Vec<String> = (0..50).map(|i| format!("f{i}")).collect();
    let members: Vec<M> = many.iter().map(|n| M::File(n, vec![])).collect();
    let limits = imagelab::archive::Limits {
        max_members: 20,
        ..Default::default()
    };
    let err = imagelab::archive::load(&engine, &mut &tar_of(&members)[..], &limits).unwrap_err();
    assert_eq!(
        err.to_string(),
        "archive has more than 20 members (decompression bomb?)"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn valid() -> Vec<u8> {
        let p = parts();
        let cfg = format!("blobs/sha256/{}", p.id.hex());
        let lay = format!("blobs/sha256/{}", p.diff.hex());
        tar_of(&[
            M::Dir("blobs/"),
            M::File(&cfg, p.config.clone()),
            M::File(&lay, p.layer.clone()),
            M::File("manifest.json", manifest_for(&p, &lay)),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Random edits of a valid archive (and random bytes) never panic
        /// `load`; when it fails, the store is as it was.
        #[test]
        fn mutated_archives_never_panic_and_failures_change_nothing(
            cut in proptest::option::of(0usize..4096),
            flips in proptest::collection::vec((0usize..4096, any::<u8>()), 0..6),
            junk in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..1500)),
        ) {
            let mut bytes = match junk {
                Some(j) => j,
                None => valid(),
            };
            for (at, v) in flips {
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    bytes[i] ^= v;
                }
            }
            if let Some(c) = cut {
                bytes.truncate(c.min(bytes.len()));
            }
            let dir = tempfile::tempdir().unwrap();
            let engine = imagelab::engine::Engine::open(dir.path()).unwrap();
            let before = store_state(dir.path());
            match imagelab::archive::load(&engine, &mut &bytes[..], &Default::default()) {
                Ok(_) => {}
                Err(_) => prop_assert_eq!(store_state(dir.path()), before),
            }
        }
    }
}

#[test]
fn export_writes_the_containers_file_system() {
    let mut lab = Lab::new();
    lab.ok("docker run --name c1 busybox sh -c 'echo exported > /root/note && rm /etc/group'");
    lab.ok("docker export -o fs.tar c1");
    let bytes = std::fs::read(lab.work().join("fs.tar")).unwrap();
    let list = listing(&bytes);
    let names: Vec<&str> = list.lines().map(|l| l.split(' ').next().unwrap()).collect();
    for want in [
        ".dockerenv",
        "etc/hostname",
        "etc/resolv.conf",
        "proc/",
        "bin/busybox",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(!names.contains(&"etc/group"), "a deleted file is exported");
    assert_eq!(member(&bytes, "root/note"), b"exported\n");
    // Deterministic, and the same through the container subcommand.
    lab.ok("docker container export -o again.tar c1");
    assert_eq!(std::fs::read(lab.work().join("again.tar")).unwrap(), bytes);
    let missing = lab.run("docker export -o x.tar nope");
    assert_eq!(missing.code, 1);
    assert_eq!(
        missing.stderr,
        "Error response from daemon: No such container: nope\n"
    );
}
