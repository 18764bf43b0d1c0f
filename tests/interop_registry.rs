//! The registry against real peers, when they are installed (CI installs
//! them; `.ci/run`): `skopeo` copies an OCI layout written here into
//! `imagelab`'s server and back out, and `RemoteRegistry` reads what it
//! pushed; the client pushes to and deletes from a real distribution
//! (`docker-registry`, Debian's build of `registry:2`), and the same raw
//! requests get the same answers from both servers.
//!
//! A missing tool skips its test with a clear `skipped: … not found`.

mod common;
use common::{noise, serve_open_registry};
use flate2::Compression;
use flate2::write::GzEncoder;
use imagelab::digest::Digest;
use imagelab::registry::client::{MONOLITHIC_LIMIT, RemoteRegistry};
use imagelab::registry::{Code, RefSpec, Registry, media};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `tool` when it runs.
fn find(tool: &str) -> Option<PathBuf> {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| PathBuf::from(tool))
}

fn put_blob(dir: &Path, bytes: &[u8]) -> (Digest, usize) {
    let d = Digest::of(bytes);
    let p = dir.join("blobs/sha256").join(d.hex());
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
    (d, bytes.len())
}

/// An OCI image layout with one gzip'd tar layer, written by hand: the
/// manifest's digest.
fn write_layout(dir: &Path, tag: &str) -> Digest {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, body) in [
        ("hello.txt", b"hello from imagelab\n".to_vec()),
        ("data.bin", noise(300_000, 9)),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        tar.append_data(&mut h, name, body.as_slice()).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&tar).unwrap();
    let layer = put_blob(dir, &gz.finish().unwrap());
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&tar).to_string()]},
    }))
    .unwrap();
    let config = put_blob(dir, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config.0.to_string(), "size": config.1},
        "layers": [{"mediaType": media::OCI_LAYER, "digest": layer.0.to_string(), "size": layer.1}],
    }))
    .unwrap();
    let manifest = put_blob(dir, &manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": media::OCI_MANIFEST,
            "digest": manifest.0.to_string(),
            "size": manifest.1,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    manifest.0
}

fn run(c: &mut Command) -> String {
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn skopeo_copies_into_and_out_of_the_server() {
    let Some(skopeo) = find("skopeo") else {
        eprintln!("skipped: skopeo not found");
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let layout = t.path().join("in");
    let want = write_layout(&layout, "1");
    let srv = serve_open_registry(&t.path().join("srv"));
    let image = format!("docker://{}/demo:1", srv.addr());

    run(Command::new(&skopeo).args([
        "--insecure-policy",
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:1", layout.display()),
        &image,
    ]));
    let c = RemoteRegistry::new(&srv.url(), None).unwrap();
    let m = c.get_manifest("demo", &RefSpec::Tag("1".into())).unwrap();
    assert_eq!(m.digest, want);
    let theirs = run(Command::new(&skopeo).args([
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        &image,
    ]));
    assert_eq!(theirs.trim(), want.to_string());
    let raw = run(Command::new(&skopeo).args(["inspect", "--tls-verify=false", "--raw", &image]));
    assert_eq!(raw.as_bytes(), m.bytes.as_slice());
    assert_eq!(c.tags("demo").unwrap(), vec!["1"]);

    let out = t.path().join("out");
    run(Command::new(&skopeo).args([
        "--insecure-policy",
        "copy",
        "--src-tls-verify=false",
        &image,
        &format!("oci:{}:copy", out.display()),
    ]));
    for d in imagelab::registry::local::references(&m.bytes)
        .into_iter()
        .chain([want.clone()])
    {
        let p = out.join("blobs/sha256").join(d.hex());
        assert_eq!(
            Digest::of(&std::fs::read(&p).unwrap()),
            d,
            "{}",
            p.display()
        );
    }
    srv.stop();
}

/// A real distribution on a free loopback port, killed when dropped.
struct Distribution {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn distribution(bin: &Path) -> Distribution {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("storage").display()
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let d = Distribution {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let c = RemoteRegistry::new(&d.url, None).unwrap();
    let start = Instant::now();
    while c.ping().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "docker-registry did not answer on {}",
            d.url
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

fn find_distribution() -> Option<PathBuf> {
    ["docker-registry", "/usr/bin/docker-registry", "registry"]
        .into_iter()
        .find_map(find)
}

#[test]
fn client_pushes_to_and_deletes_from_a_real_distribution() {
    let Some(bin) = find_distribution() else {
        eprintln!("skipped: docker-registry not found");
        return;
    };
    let reg = distribution(&bin);
    let c = RemoteRegistry::new(&reg.url, None).unwrap();
    let layer = noise(MONOLITHIC_LIMIT + 2 * 1024 * 1024 + 5, 4);
    let (ld, lsize) = c.put_blob("demo", None, &mut layer.as_slice()).unwrap();
    assert_eq!(
        (ld.clone(), lsize),
        (Digest::of(&layer), layer.len() as u64)
    );
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = Digest::of(config);
    c.put_blob("demo", Some(&cd), &mut config.as_slice())
        .unwrap();
    let liar = Digest::of(b"not this");
    let e = c
        .put_blob("demo", Some(&liar), &mut layer.as_slice())
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::DigestInvalid));
    assert_eq!(c.stat_blob("demo", &liar).unwrap(), None);

    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": cd.to_string(), "size": config.len()},
        "layers": [{"mediaType": media::OCI_LAYER, "digest": ld.to_string(), "size": lsize}],
    }))
    .unwrap();
    let md = c
        .put_manifest(
            "demo",
            &RefSpec::Tag("1".into()),
            media::OCI_MANIFEST,
            &manifest,
        )
        .unwrap();
    assert_eq!(md, Digest::of(&manifest));
    let got = c.get_manifest("demo", &RefSpec::Tag("1".into())).unwrap();
    assert_eq!(
        (got.media_type.as_str(), &got.digest, &got.bytes),
        (media::OCI_MANIFEST, &md, &manifest)
    );
    let mut back = Vec::new();
    c.get_blob("demo", &ld)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == layer, "the layer read back differs");
    assert_eq!(c.stat_blob("demo", &ld).unwrap(), Some(lsize));
    assert_eq!(c.tags("demo").unwrap(), vec!["1"]);
    assert!(c.catalog().unwrap().contains(&"demo".to_string()));
    assert!(c.mount_blob("other", "demo", &ld).unwrap());
    assert!(!c.mount_blob("other", "demo", &liar).unwrap());
    let e = c
        .get_manifest("demo", &RefSpec::Tag("nope".into()))
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::ManifestUnknown));
    assert_eq!(
        c.tags("nobody").unwrap_err().spec_code(),
        Some(Code::NameUnknown)
    );

    c.delete_manifest("demo", &RefSpec::Digest(md.clone()))
        .unwrap();
    let e = c
        .get_manifest("demo", &RefSpec::Digest(md.clone()))
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::ManifestUnknown));
    c.delete_blob("demo", &ld).unwrap();
    assert_eq!(c.stat_blob("demo", &ld).unwrap(), None);
}

/// One raw exchange: status, the first error code, and the `Range` header.
fn exchange(
    agent: &ureq::Agent,
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Option<String>, Option<String>) {
    let url = if target.starts_with("http") {
        target.to_string()
    } else {
        format!("{base}{target}")
    };
    let mut b = ureq::http::Request::builder().method(method).uri(&url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut resp = agent.run(b.body(body).unwrap()).unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let range = header("Range");
    let location = header("Location").map(|l| {
        if l.starts_with('/') {
            format!("{base}{l}")
        } else {
            l
        }
    });
    let bytes = resp.body_mut().read_to_vec().unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["errors"][0]["code"].as_str().map(str::to_string))
        .unwrap_or_default();
    (resp.status().as_u16(), code, range, location)
}

#[test]
fn the_server_answers_raw_requests_as_distribution_does() {
    let Some(bin) = find_distribution() else {
        eprintln!("skipped: docker-registry not found");
        return;
    };
    let reg = distribution(&bin);
    let t = tempfile::tempdir().unwrap();
    let ours = serve_open_registry(t.path());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let zero = format!("sha256:{}", "0".repeat(64));
    let hello = Digest::of(b"hello").to_string();
    let transcript = |base: &str| {
        let mut seen = Vec::new();
        let mut x = |m: &str, target: &str, h: &[(&str, &str)], body: &[u8]| {
            let (status, code, range, loc) = exchange(&agent, base, m, target, h, body);
            // Sessions are named differently by each server.
            let shown = match target
                .strip_prefix(base)
                .map(|p| p.split_once("/blobs/uploads/"))
            {
                Some(Some((repo, _))) => {
                    let digest = target.split("digest=").nth(1).unwrap_or_default();
                    format!("{repo}/blobs/uploads/SESSION {digest}")
                }
                _ => target.to_string(),
            };
            seen.push(format!("{m} {shown} -> {status} {code} {range:?}"));
            loc
        };
        x("GET", "/v2/", &[], b"");
        x("GET", "/v2/nothing/tags/list", &[], b"");
        x("GET", "/v1/_ping", &[], b"");
        x("POST", "/v2/demo/manifests/1", &[], b"");
        x("GET", &format!("/v2/demo/blobs/{zero}"), &[], b"");
        x("GET", "/v2/demo/blobs/sha256:abc", &[], b"");
        x("GET", "/v2/_catalog?n=5000", &[], b"");
        x("GET", "/v2/demo/blobs/uploads/", &[], b"");
        let oct = [("Content-Type", "application/octet-stream")];
        let loc = x("POST", "/v2/demo/blobs/uploads/", &[], b"").unwrap();
        let loc = x("PATCH", &loc, &oct, b"hel").unwrap();
        let loc = x("PATCH", &loc, &oct, b"lo").unwrap();
        x("GET", &loc, &[], b"");
        x("PUT", &loc, &[], b"");
        let sep = if loc.contains('?') { '&' } else { '?' };
        x("PUT", &format!("{loc}{sep}digest={zero}"), &[], b"");
        x("PUT", &format!("{loc}{sep}digest={hello}"), &[], b"");
        x("HEAD", &format!("/v2/demo/blobs/{hello}"), &[], b"");
        x(
            "POST",
            &format!("/v2/copy/blobs/uploads/?mount={hello}&from=demo"),
            &[],
            b"",
        );
        let ct = [("Content-Type", media::OCI_MANIFEST)];
        x("PUT", "/v2/demo/manifests/1", &ct, b"not json");
        let unknown_blob = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{zero}","size":1}},"layers":[]}}"#,
            media::OCI_MANIFEST,
            media::OCI_CONFIG
        );
        x("PUT", "/v2/demo/manifests/1", &ct, unknown_blob.as_bytes());
        let good = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{hello}","size":5}},"layers":[]}}"#,
            media::OCI_MANIFEST,
            media::OCI_CONFIG
        );
        x("PUT", "/v2/demo/manifests/1", &ct, good.as_bytes());
        x("GET", "/v2/demo/manifests/1", &[], b"");
        x(
            "GET",
            "/v2/demo/manifests/1",
            &[("Accept", media::OCI_MANIFEST)],
            b"",
        );
        x(
            "HEAD",
            "/v2/demo/manifests/1",
            &[("Accept", media::OCI_MANIFEST)],
            b"",
        );
        x("GET", "/v2/demo/manifests/2", &[], b"");
        x("GET", "/v2/demo/tags/list", &[], b"");
        let md = Digest::of(good.as_bytes());
        x("DELETE", &format!("/v2/demo/manifests/{md}"), &[], b"");
        x("GET", "/v2/demo/manifests/1", &[], b"");
        x("DELETE", &format!("/v2/demo/blobs/{hello}"), &[], b"");
        x("HEAD", &format!("/v2/demo/blobs/{hello}"), &[], b"");
        seen
    };
    let theirs = transcript(&reg.url);
    let mine = transcript(&ours.url());
    assert!(
        mine.iter()
            .any(|l| l.contains("/v2/demo/blobs/uploads/SESSION sha256:2cf24dba")),
        "{mine:#?}"
    );
    assert_eq!(mine, theirs);
}
