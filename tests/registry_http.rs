//! The registry's HTTP server and client against each other over real
//! sockets: a `LocalRegistry` in a temp folder behind `server::start` on
//! 127.0.0.1:0, driven by `RemoteRegistry`. Plus the client against small
//! fake registries for what our server never does (Bearer tokens, redirects
//! to storage), and the server's answer to a TLS handshake.

mod common;
use common::{noise, serve_open_registry};
use imagelab::digest::Digest;
use imagelab::registry::client::{MONOLITHIC_LIMIT, RemoteRegistry};
use imagelab::registry::local::{Auth, LocalRegistry, Policy};
use imagelab::registry::server::{self, Handler, Running};
use imagelab::registry::{Code, RefSpec, Registry, RegistryError, media};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `alice:secret` is the one user (an htpasswd file's worth of rules).
fn htpasswd_server(root: &Path) -> Running {
    let storage = root.join("registry");
    let handler = Handler::new(&root.join("uploads"), move |creds| {
        let user = match creds {
            None => None,
            Some((u, p)) if u == "alice" && p == "secret" => Some(u),
            Some(_) => return Err(RegistryError::code(Code::Unauthorized)),
        };
        let policy = Policy {
            auth: Auth::Htpasswd,
            user,
            delete_enabled: true,
        };
        Ok(Box::new(LocalRegistry::new(&storage, policy)) as Box<dyn Registry + Send>)
    });
    server::start(handler, "127.0.0.1:0").unwrap()
}

fn manifest(config: (&Digest, usize), layers: &[(&Digest, usize)]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config.0.to_string(), "size": config.1},
        "layers": layers.iter().map(|(d, s)| serde_json::json!({
            "mediaType": media::OCI_LAYER, "digest": d.to_string(), "size": s
        })).collect::<Vec<_>>(),
    }))
    .unwrap()
}

fn read_all(r: &dyn Registry, repo: &str, d: &Digest) -> Vec<u8> {
    let mut out = Vec::new();
    r.get_blob(repo, d).unwrap().read_to_end(&mut out).unwrap();
    out
}

#[test]
fn client_pushes_and_pulls_through_the_server() {
    let t = tempfile::tempdir().unwrap();
    let srv = serve_open_registry(t.path());
    let c = RemoteRegistry::new(&srv.url(), None).unwrap();
    c.ping().unwrap();

    // A small blob goes in one PUT, a big one in a streamed PATCH.
    let small = b"{\"architecture\":\"amd64\",\"os\":\"linux\"}".to_vec();
    let big = noise(MONOLITHIC_LIMIT + 3 * 1024 * 1024 + 17, 1);
    let ds = Digest::of(&small);
    let db = Digest::of(&big);
    assert_eq!(
        c.put_blob("team/app", Some(&ds), &mut small.as_slice())
            .unwrap(),
        (ds.clone(), small.len() as u64)
    );
    assert_eq!(
        c.put_blob("team/app", None, &mut big.as_slice()).unwrap(),
        (db.clone(), big.len() as u64)
    );
    assert_eq!(
        c.stat_blob("team/app", &db).unwrap(),
        Some(big.len() as u64)
    );
    assert_eq!(read_all(&c, "team/app", &db), big);
    assert_eq!(read_all(&c, "team/app", &ds), small);
    // No upload session is left behind.
    assert_eq!(
        std::fs::read_dir(t.path().join("uploads")).unwrap().count(),
        0
    );

    // Wrong digests are refused on both paths and store nothing.
    let liar = Digest::of(b"something else");
    for body in [&small, &big] {
        let e = c
            .put_blob("team/app", Some(&liar), &mut body.as_slice())
            .unwrap_err();
        assert_eq!(e.spec_code(), Some(Code::DigestInvalid), "{e}");
    }
    assert_eq!(c.stat_blob("team/app", &liar).unwrap(), None);

    let m = manifest((&ds, small.len()), &[(&db, big.len())]);
    let md = c
        .put_manifest(
            "team/app",
            &RefSpec::Tag("1.0".into()),
            media::OCI_MANIFEST,
            &m,
        )
        .unwrap();
    assert_eq!(md, Digest::of(&m));
    let got = c
        .get_manifest("team/app", &RefSpec::Tag("1.0".into()))
        .unwrap();
    assert_eq!(
        (got.media_type.as_str(), &got.digest, &got.bytes),
        (media::OCI_MANIFEST, &md, &m)
    );
    let got = c
        .get_manifest("team/app", &RefSpec::Digest(md.clone()))
        .unwrap();
    assert_eq!(got.bytes, m);

    // Mounts: from a repository that has the blob, or not.
    assert!(c.mount_blob("team/web", "team/app", &db).unwrap());
    assert_eq!(
        c.stat_blob("team/web", &db).unwrap(),
        Some(big.len() as u64)
    );
    assert!(!c.mount_blob("team/web", "team/app", &liar).unwrap());
    assert_eq!(
        std::fs::read_dir(t.path().join("uploads")).unwrap().count(),
        0
    );

    // Errors keep their codes across the wire.
    let e = c
        .get_manifest("team/app", &RefSpec::Tag("nope".into()))
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::ManifestUnknown));
    let e = c.tags("nobody").unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::NameUnknown));
    let e = c.get_blob("team/app", &liar).err().unwrap();
    assert_eq!(e.spec_code(), Some(Code::BlobUnknown));
    let e = c
        .put_manifest(
            "team/app",
            &RefSpec::Tag("x".into()),
            media::OCI_MANIFEST,
            &manifest((&liar, 1), &[]),
        )
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::ManifestBlobUnknown));

    // Deletes.
    c.delete_manifest("team/app", &RefSpec::Digest(md.clone()))
        .unwrap();
    let e = c
        .get_manifest("team/app", &RefSpec::Tag("1.0".into()))
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::ManifestUnknown));
    c.delete_blob("team/web", &db).unwrap();
    assert_eq!(c.stat_blob("team/web", &db).unwrap(), None);
    srv.stop();
}

#[test]
fn tags_and_catalog_follow_the_link_pages() {
    let t = tempfile::tempdir().unwrap();
    let srv = serve_open_registry(t.path());
    let c = RemoteRegistry::new(&srv.url(), None).unwrap();
    let config = b"{}".to_vec();
    let cd = Digest::of(&config);
    c.put_blob("r000", Some(&cd), &mut config.as_slice())
        .unwrap();
    let m = manifest((&cd, 2), &[]);
    c.put_manifest("r000", &RefSpec::Tag("v1".into()), media::OCI_MANIFEST, &m)
        .unwrap();
    // More repositories than one catalog page holds by default (100): the
    // rest are made in distribution's layout directly (pushing each would
    // only time fsyncs).
    let mut want = vec!["r000".to_string()];
    for i in 1..105 {
        let repo = format!("r{i:03}");
        std::fs::create_dir_all(
            t.path()
                .join("registry/docker/registry/v2/repositories")
                .join(&repo)
                .join("_manifests"),
        )
        .unwrap();
        want.push(repo);
    }
    let page = ureq::get(format!("{}/v2/_catalog", srv.url()))
        .call()
        .unwrap();
    assert_eq!(
        page.headers().get("Link").unwrap().to_str().unwrap(),
        "</v2/_catalog?last=r099&n=100>; rel=\"next\""
    );
    assert_eq!(c.catalog().unwrap(), want);
    for tag in ["b", "a", "c"] {
        c.put_manifest("r000", &RefSpec::Tag(tag.into()), "", &m)
            .unwrap();
    }
    assert_eq!(c.tags("r000").unwrap(), vec!["a", "b", "c", "v1"]);
}

#[test]
fn basic_auth_is_answered_with_the_credentials() {
    let t = tempfile::tempdir().unwrap();
    let srv = htpasswd_server(t.path());
    let anon = RemoteRegistry::new(&srv.url(), None).unwrap();
    let e = anon.ping().unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::Unauthorized));
    let e = anon
        .put_blob("app", None, &mut b"x".as_slice())
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::Unauthorized));
    let wrong = RemoteRegistry::new(&srv.url(), Some(("alice".into(), "guess".into()))).unwrap();
    assert_eq!(
        wrong.ping().unwrap_err().spec_code(),
        Some(Code::Unauthorized)
    );

    let alice = RemoteRegistry::new(&srv.url(), Some(("alice".into(), "secret".into()))).unwrap();
    alice.ping().unwrap();
    let big = noise(MONOLITHIC_LIMIT + 1, 7);
    let (d, _) = alice.put_blob("app", None, &mut big.as_slice()).unwrap();
    assert_eq!(read_all(&alice, "app", &d), big);
    // The raw answer carries the challenge.
    let r = ureq::get(format!("{}/v2/", srv.url()))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers().get("WWW-Authenticate").unwrap(),
        "Basic realm=\"imagelab\""
    );
}

#[test]
fn a_refused_connection_reads_as_docker_says_it() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = RemoteRegistry::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    match c.ping() {
        Err(RegistryError::Unreachable(text)) => assert_eq!(
            text,
            format!(
                "Get \"http://127.0.0.1:{port}/v2/\": dial tcp 127.0.0.1:{port}: connect: connection refused"
            )
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_tls_handshake_is_refused_at_once() {
    let t = tempfile::tempdir().unwrap();
    let srv = serve_open_registry(t.path());
    let mut s = std::net::TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    // The first bytes of a ClientHello record.
    s.write_all(&[0x16, 0x03, 0x01, 0x00, 0xa0, 0x01, 0x00, 0x00, 0x9c])
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert_eq!(
        answer,
        "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
    );
    // Plain HTTP still works after it.
    RemoteRegistry::new(&srv.url(), None)
        .unwrap()
        .ping()
        .unwrap();
}

#[test]
fn server_stops_and_frees_its_port() {
    let t = tempfile::tempdir().unwrap();
    let srv = serve_open_registry(t.path());
    let addr = srv.addr();
    srv.stop();
    let c = RemoteRegistry::new(&format!("http://{addr}"), None).unwrap();
    assert!(matches!(c.ping(), Err(RegistryError::Unreachable(_))));
}

/// A registry that wants Bearer tokens (as Docker Hub does) and keeps its
/// blobs "in storage" behind a redirect.
struct FakeHub {
    server: Arc<tiny_http::Server>,
    url: String,
    token_requests: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn fake_hub(blob: Vec<u8>, manifest: Vec<u8>) -> FakeHub {
    use tiny_http::{Header, Response};
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let token_requests = Arc::new(AtomicUsize::new(0));
    let thread = {
        let server = Arc::clone(&server);
        let url = url.clone();
        let count = Arc::clone(&token_requests);
        std::thread::spawn(move || {
            let h = |k: &str, v: &str| Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap();
            while let Ok(rq) = server.recv() {
                let path = rq.url().to_string();
                let auth = rq
                    .headers()
                    .iter()
                    .find(|x| x.field.equiv("Authorization"))
                    .map(|x| x.value.as_str().to_string());
                if path.starts_with("/token?") {
                    count.fetch_add(1, Ordering::SeqCst);
                    // Basic bob:pw, as base64.
                    let ok = auth.as_deref() == Some("Basic Ym9iOnB3")
                        && path.contains("service=fake")
                        && path.contains("scope=repository%3Alibrary%2Fdemo%3Apull");
                    let resp = if ok {
                        Response::from_string(r#"{"access_token":"tok-1"}"#)
                    } else {
                        Response::from_string("{}").with_status_code(401)
                    };
                    let _ = rq.respond(resp);
                    continue;
                }
                if path.starts_with("/storage/") {
                    // Storage must not see the registry's token.
                    let resp = if auth.is_none() {
                        Response::from_data(blob.clone())
                    } else {
                        Response::from_string("no").with_status_code(400)
                    };
                    let _ = rq.respond(resp);
                    continue;
                }
                if auth.as_deref() != Some("Bearer tok-1") {
                    let resp = Response::from_string(
                        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#,
                    )
                    .with_status_code(401)
                    .with_header(h(
                        "WWW-Authenticate",
                        &format!(
                            "Bearer realm=\"{url}/token\",service=\"fake\",scope=\"repository:library/demo:pull\""
                        ),
                    ));
                    let _ = rq.respond(resp);
                    continue;
                }
                let resp = if path.contains("/manifests/") {
                    Response::from_data(manifest.clone())
                        .with_header(h("Content-Type", media::DOCKER_MANIFEST))
                } else if path.contains("/blobs/") {
                    Response::from_string("")
                        .with_status_code(307)
                        .with_header(h("Location", &format!("{url}/storage/blob")))
                } else {
                    Response::from_string("404 page not found").with_status_code(404)
                };
                let _ = rq.respond(resp);
            }
        })
    };
    FakeHub {
        server,
        url,
        token_requests,
        thread: Some(thread),
    }
}

#[test]
fn bearer_tokens_are_fetched_once_per_scope_and_redirects_followed() {
    let blob = noise(100_000, 3);
    let bd = Digest::of(&blob);
    let m = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::DOCKER_MANIFEST,
        "config": {"mediaType": media::DOCKER_CONFIG, "digest": bd.to_string(), "size": blob.len()},
        "layers": [],
    }))
    .unwrap();
    let hub = fake_hub(blob.clone(), m.clone());
    let c = RemoteRegistry::new(&hub.url, Some(("bob".into(), "pw".into()))).unwrap();
    let got = c
        .get_manifest("library/demo", &RefSpec::Tag("latest".into()))
        .unwrap();
    assert_eq!(got.media_type, media::DOCKER_MANIFEST);
    assert_eq!(got.bytes, m);
    assert_eq!(read_all(&c, "library/demo", &bd), blob);
    assert_eq!(hub.token_requests.load(Ordering::SeqCst), 1);
    // A blob that is not what its digest says fails as it is read.
    let wrong = Digest::of(b"x");
    let mut out = Vec::new();
    let e = c
        .get_blob("library/demo", &wrong)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    // Without credentials the token endpoint refuses: UNAUTHORIZED.
    let anon = RemoteRegistry::new(&hub.url, None).unwrap();
    let e = anon
        .get_manifest("library/demo", &RefSpec::Tag("latest".into()))
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::Unauthorized));
}

#[test]
fn a_stored_media_type_cannot_split_response_headers() {
    let t = tempfile::tempdir().unwrap();
    let srv = serve_open_registry(t.path());
    let c = RemoteRegistry::new(&srv.url(), None).unwrap();
    let (cd, _) = c.put_blob("app", None, &mut b"{}".as_slice()).unwrap();
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"text/x\r\nX-Injected: 1","config":{{"mediaType":"x","digest":"{cd}","size":2}},"layers":[]}}"#
    );
    // No Content-Type: the registry takes the manifest's own word.
    let r = ureq::put(format!("{}/v2/app/manifests/1", srv.url()))
        .send(m.as_bytes())
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let mut s = std::net::TcpStream::connect(srv.addr()).unwrap();
    s.write_all(b"GET /v2/app/manifests/1 HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let head = answer.split("\r\n\r\n").next().unwrap();
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert!(!head.lines().any(|l| l.starts_with("X-Injected")), "{head}");
}

#[test]
fn registry_serve_says_where_it_listens_and_serves_the_home_registry() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_imagelab"))
        .arg("--home")
        .arg(home.path())
        .args([
            "registry",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--delete-enabled",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let storage = home.path().join("registry");
    let url = line
        .strip_prefix("imagelab registry listening on ")
        .and_then(|rest| rest.strip_suffix(&format!(" (storage: {})\n", storage.display())))
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let c = RemoteRegistry::new(&url, None).unwrap();
    let (d, _) = c.put_blob("app", None, &mut b"bytes".as_slice()).unwrap();
    assert!(
        storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&d.hex()[..2])
            .join(d.hex())
            .join("data")
            .is_file()
    );
    c.delete_blob("app", &d).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
}
