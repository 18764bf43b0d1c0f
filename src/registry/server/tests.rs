use super::*;
use crate::registry::local::{Auth, LocalRegistry, Policy};
use crate::registry::media;
use proptest::prelude::*;

/// A handler over a fresh open registry (deletes on) in a temp folder.
fn lab() -> (tempfile::TempDir, Handler) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("registry");
    let policy = Policy {
        delete_enabled: true,
        ..Policy::open()
    };
    let h = Handler::local(&root.join("_uploads"), &root, policy);
    (t, h)
}

fn call(h: &Handler, method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Collected {
    let mut body = body;
    h.handle(Request {
        method: method.into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: &mut body,
    })
}

fn code(c: &Collected) -> String {
    c.error_code().unwrap_or_default()
}

fn push_blob(h: &Handler, repo: &str, bytes: &[u8]) -> Digest {
    let d = Digest::of(bytes);
    let r = call(
        h,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/?digest={d}"),
        &[],
        bytes,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    d
}

fn manifest(config: &Digest, size: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config.to_string(), "size": size},
        "layers": [],
    }))
    .unwrap()
}

/// Every blob under the storage folder hashes to its name.
fn assert_blobs_verified(root: &Path) {
    let blobs = root.join("registry/docker/registry/v2/blobs/sha256");
    for pre in fs::read_dir(&blobs).into_iter().flatten().flatten() {
        for b in fs::read_dir(pre.path()).into_iter().flatten().flatten() {
            let data = fs::read(b.path().join("data")).unwrap();
            assert_eq!(
                Digest::of(&data).hex(),
                b.file_name().to_string_lossy(),
                "blob stored under a wrong name"
            );
        }
    }
}

#[test]
fn routes_are_read_from_the_right() {
    assert_eq!(parse_route("/v2/"), Some(Route::Base));
    assert_eq!(parse_route("/v2/_catalog"), Some(Route::Catalog));
    assert_eq!(
        parse_route("/v2/a/blobs/tags/list"),
        Some(Route::Tags("a/blobs"))
    );
    assert_eq!(
        parse_route("/v2/a/manifests/b/manifests/latest"),
        Some(Route::Manifest("a/manifests/b", "latest"))
    );
    assert_eq!(
        parse_route("/v2/x/blobs/uploads/blobs/sha256:ab"),
        Some(Route::Blob("x/blobs/uploads", "sha256:ab"))
    );
    assert_eq!(
        parse_route("/v2/team/app/blobs/uploads/"),
        Some(Route::Uploads("team/app"))
    );
    assert_eq!(
        parse_route("/v2/team/app/blobs/uploads/u"),
        Some(Route::Upload("team/app", "u"))
    );
    assert_eq!(parse_route("/v2/a/blobs/"), None);
    assert_eq!(parse_route("/v1/_ping"), None);
    assert_eq!(parse_route("/v2/a/other/x"), None);
}

#[test]
fn queries_decode_as_go_does() {
    assert_eq!(
        parse_query("digest=sha256%3Aab&from=a%2Fb&x=1+2&bad=%zz"),
        vec![
            ("digest".into(), "sha256:ab".into()),
            ("from".into(), "a/b".into()),
            ("x".into(), "1 2".into()),
            ("bad".into(), "%zz".into()),
        ]
    );
    assert_eq!(escape("a/b c"), "a%2Fb+c");
}

#[test]
fn uuids_are_fresh_and_well_formed() {
    let a = new_uuid();
    let b = new_uuid();
    assert!(valid_uuid(&a), "{a}");
    assert_ne!(a, b);
    assert!(!valid_uuid("../../etc/passwd"));
    assert!(!valid_uuid(&a.to_uppercase()));
}

#[test]
fn base_answers_with_the_api_version() {
    let (_t, h) = lab();
    let r = call(&h, "GET", "/v2/", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"{}");
    assert_eq!(
        r.header("Docker-Distribution-Api-Version"),
        Some("registry/2.0")
    );
}

#[test]
fn unknown_routes_are_page_not_found_and_wrong_methods_405() {
    let (_t, h) = lab();
    let r = call(&h, "GET", "/v2/a/nothing/x", &[], b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.body, b"404 page not found\n");
    let r = call(&h, "GET", "/", &[], b"");
    assert_eq!(r.status, 404);
    let r = call(&h, "POST", "/v2/a/manifests/latest", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("DELETE, GET, HEAD, PUT"));
    assert_eq!(r.body, b"Method not allowed\n");
    let r = call(&h, "GET", "/v2/a/blobs/uploads/", &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (404, "BLOB_UPLOAD_UNKNOWN"));
}

#[test]
fn monolithic_upload_is_verified_before_anything_is_stored() {
    let (t, h) = lab();
    let wrong = Digest::of(b"other");
    let r = call(
        &h,
        "POST",
        &format!("/v2/app/blobs/uploads/?digest={wrong}"),
        &[],
        b"layer",
    );
    assert_eq!((r.status, code(&r).as_str()), (400, "DIGEST_INVALID"));
    let r = call(&h, "HEAD", &format!("/v2/app/blobs/{wrong}"), &[], b"");
    assert_eq!(r.status, 404);
    let d = push_blob(&h, "app", b"layer");
    let r = call(&h, "HEAD", &format!("/v2/app/blobs/{d}"), &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(d.to_string().as_str())
    );
    let r = call(&h, "GET", &format!("/v2/app/blobs/{d}"), &[], b"");
    assert_eq!((r.status, r.body.as_slice()), (200, b"layer".as_slice()));
    assert_eq!(r.header("Content-Type"), Some("application/octet-stream"));
    assert_blobs_verified(t.path());
}

#[test]
fn chunked_upload_honours_content_range() {
    let (t, h) = lab();
    let r = call(&h, "POST", "/v2/team/app/blobs/uploads/", &[], b"");
    assert_eq!(r.status, 202);
    assert_eq!(r.header("Range"), Some("0-0"));
    let loc = r.header("Location").unwrap().to_string();
    let uuid = r.header("Docker-Upload-UUID").unwrap().to_string();
    assert_eq!(loc, format!("/v2/team/app/blobs/uploads/{uuid}"));
    // The session is a file in the staging folder, named by the UUID.
    assert!(t.path().join("registry/_uploads").join(&uuid).is_dir());

    let r = call(&h, "PATCH", &loc, &[("Content-Range", "0-4")], b"hello");
    assert_eq!((r.status, r.header("Range")), (202, Some("0-4")));
    // The same range again does not start where the upload is.
    let r = call(&h, "PATCH", &loc, &[("Content-Range", "0-4")], b"hello");
    assert_eq!(r.status, 416);
    assert_eq!(code(&r), "RANGE_INVALID");
    assert_eq!(r.header("Range"), Some("0-4"));
    let r = call(&h, "PATCH", &loc, &[("Content-Range", "five")], b"x");
    assert_eq!(r.status, 416);
    let r = call(
        &h,
        "PATCH",
        &loc,
        &[("Content-Range", "5-9"), ("Content-Length", "3")],
        b" wo",
    );
    assert_eq!((r.status, code(&r).as_str()), (400, "SIZE_INVALID"));
    let r = call(&h, "PATCH", &loc, &[("Content-Range", "5-10")], b" world");
    assert_eq!((r.status, r.header("Range")), (202, Some("0-10")));
    let r = call(&h, "GET", &loc, &[], b"");
    assert_eq!((r.status, r.header("Range")), (204, Some("0-10")));

    let wrong = Digest::of(b"hello");
    let good = Digest::of(b"hello world!");
    // A PUT without a digest is refused and keeps the session.
    let r = call(&h, "PUT", &loc, &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (400, "DIGEST_INVALID"));
    // The final chunk comes with the PUT.
    let r = call(&h, "PUT", &format!("{loc}?digest={good}"), &[], b"!");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.header("Location"),
        Some(format!("/v2/team/app/blobs/{good}").as_str())
    );
    // The session is gone.
    let r = call(&h, "GET", &loc, &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (404, "BLOB_UPLOAD_UNKNOWN"));
    assert!(!t.path().join("registry/_uploads").join(&uuid).exists());

    // A wrong digest at the end stores nothing; the session stays for a
    // right one, as distribution keeps it.
    let r = call(&h, "POST", "/v2/team/app/blobs/uploads/", &[], b"");
    let loc = r.header("Location").unwrap().to_string();
    call(&h, "PATCH", &loc, &[], b"hello!");
    let r = call(&h, "PUT", &format!("{loc}?digest={wrong}"), &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (400, "DIGEST_INVALID"));
    let r = call(&h, "HEAD", &format!("/v2/team/app/blobs/{wrong}"), &[], b"");
    assert_eq!(r.status, 404);
    let r = call(&h, "GET", &loc, &[], b"");
    assert_eq!((r.status, r.header("Range")), (204, Some("0-5")));
    let hello = Digest::of(b"hello!");
    let r = call(&h, "PUT", &format!("{loc}?digest={hello}"), &[], b"");
    assert_eq!(r.status, 201);
    assert_blobs_verified(t.path());
}

#[test]
fn cancelled_uploads_are_gone() {
    let (_t, h) = lab();
    let r = call(&h, "POST", "/v2/app/blobs/uploads/", &[], b"");
    let loc = r.header("Location").unwrap().to_string();
    let r = call(&h, "DELETE", &loc, &[], b"");
    assert_eq!(r.status, 204);
    let r = call(&h, "PATCH", &loc, &[], b"x");
    assert_eq!((r.status, code(&r).as_str()), (404, "BLOB_UPLOAD_UNKNOWN"));
}

#[test]
fn upload_uuids_and_names_never_become_paths() {
    let (t, h) = lab();
    fs::write(t.path().join("secret"), "x").unwrap();
    for url in [
        "/v2/app/blobs/uploads/..",
        "/v2/app/blobs/uploads/..%2f..%2fsecret",
        "/v2/app/blobs/uploads/00000000-0000-0000-0000-000000000000",
        "/v2/app/blobs/uploads/ABCDEF00-0000-0000-0000-000000000000",
    ] {
        let r = call(&h, "PATCH", url, &[], b"data");
        assert_eq!(
            (r.status, code(&r).as_str()),
            (404, "BLOB_UPLOAD_UNKNOWN"),
            "{url}"
        );
    }
    // Another repository's session is unknown here.
    let r = call(&h, "POST", "/v2/app/blobs/uploads/", &[], b"");
    let uuid = r.header("Docker-Upload-UUID").unwrap().to_string();
    let r = call(
        &h,
        "PATCH",
        &format!("/v2/other/blobs/uploads/{uuid}"),
        &[],
        b"x",
    );
    assert_eq!(code(&r), "BLOB_UPLOAD_UNKNOWN");
    let d = Digest::of(b"x");
    for url in [
        format!("/v2/a%2fb/blobs/{d}"),
        format!("/v2/../../blobs/{d}"),
        format!("/v2/a/../b/blobs/{d}"),
        format!("/v2//a/blobs/{d}"),
        "/v2/A/tags/list".to_string(),
        "/v2/%2e%2e/manifests/latest".to_string(),
    ] {
        let r = call(&h, "GET", &url, &[], b"");
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "NAME_INVALID"),
            "{url}"
        );
    }
    let r = call(&h, "GET", "/v2/app/blobs/sha256%3Aab", &[], b"");
    assert_eq!(code(&r), "DIGEST_INVALID");
    let r = call(&h, "GET", "/v2/app/manifests/..", &[], b"");
    assert_eq!(code(&r), "TAG_INVALID");
}

#[test]
fn manifests_tags_and_catalog_with_pagination() {
    let (_t, h) = lab();
    let config = b"{\"architecture\":\"amd64\"}";
    let c = push_blob(&h, "app", config);
    let m = manifest(&c, config.len());
    let md = Digest::of(&m);
    let ct = [("Content-Type", media::OCI_MANIFEST)];
    for tag in ["c", "a", "b", "1.0"] {
        let r = call(&h, "PUT", &format!("/v2/app/manifests/{tag}"), &ct, &m);
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(
            r.header("Location"),
            Some(format!("/v2/app/manifests/{md}").as_str())
        );
        assert_eq!(
            r.header("Docker-Content-Digest"),
            Some(md.to_string().as_str())
        );
    }
    let accept = [(
        "Accept",
        "application/json, application/vnd.oci.image.manifest.v1+json; q=0.5",
    )];
    let r = call(&h, "GET", "/v2/app/manifests/a", &accept, b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, m);
    assert_eq!(r.header("Content-Type"), Some(media::OCI_MANIFEST));
    let r = call(&h, "HEAD", &format!("/v2/app/manifests/{md}"), &accept, b"");
    assert_eq!((r.status, r.body.len()), (200, 0));
    // A client that does not say it reads OCI manifests is told there is none.
    let r = call(&h, "GET", "/v2/app/manifests/a", &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (404, "MANIFEST_UNKNOWN"));

    let r = call(&h, "GET", "/v2/app/tags/list", &[], b"");
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "{\"name\":\"app\",\"tags\":[\"1.0\",\"a\",\"b\",\"c\"]}\n"
    );
    assert_eq!(r.header("Link"), None);
    let r = call(&h, "GET", "/v2/app/tags/list?n=2", &[], b"");
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "{\"name\":\"app\",\"tags\":[\"1.0\",\"a\"]}\n"
    );
    assert_eq!(
        r.header("Link"),
        Some("</v2/app/tags/list?last=a&n=2>; rel=\"next\"")
    );
    let r = call(&h, "GET", "/v2/app/tags/list?last=a&n=2", &[], b"");
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        concat!(r#"{"name":"app","tags":["b","c"]}"#, "\n")
    );
    assert_eq!(r.header("Link"), None);
    let r = call(&h, "GET", "/v2/app/tags/list?n=x", &[], b"");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "PAGINATION_NUMBER_INVALID")
    );
    let r = call(&h, "GET", "/v2/nothing/tags/list", &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (404, "NAME_UNKNOWN"));

    for repo in ["team/web", "team/api"] {
        assert!(
            call(
                &h,
                "POST",
                &format!("/v2/{repo}/blobs/uploads/?mount={c}&from=app"),
                &[],
                b""
            )
            .status
                == 201
        );
        let r = call(&h, "PUT", &format!("/v2/{repo}/manifests/1"), &ct, &m);
        assert_eq!(r.status, 201);
    }
    let r = call(&h, "GET", "/v2/_catalog?n=2", &[], b"");
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        concat!(r#"{"repositories":["app","team/api"]}"#, "\n")
    );
    assert_eq!(
        r.header("Link"),
        Some("</v2/_catalog?last=team%2Fapi&n=2>; rel=\"next\"")
    );
    // distribution 2.8 reads a bad `n` as the default page, refuses a huge one.
    let r = call(&h, "GET", "/v2/_catalog?n=x", &[], b"");
    assert_eq!((r.status, r.header("Link")), (200, None));
    let r = call(&h, "GET", "/v2/_catalog?n=5000", &[], b"");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "PAGINATION_NUMBER_INVALID")
    );
    let r = call(&h, "GET", "/v2/_catalog?last=team%2Fapi&n=2", &[], b"");
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        concat!(r#"{"repositories":["team/web"]}"#, "\n")
    );

    // Deletes: the manifest by digest takes its tags along.
    let r = call(
        &h,
        "DELETE",
        &format!("/v2/team/web/manifests/{md}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 202);
    let r = call(&h, "GET", "/v2/team/web/manifests/1", &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (404, "MANIFEST_UNKNOWN"));
    let r = call(&h, "DELETE", &format!("/v2/team/web/blobs/{c}"), &[], b"");
    assert_eq!(r.status, 202);
    let r = call(&h, "GET", &format!("/v2/team/web/blobs/{c}"), &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (404, "BLOB_UNKNOWN"));
}

#[test]
fn manifests_need_their_blobs_and_are_capped() {
    let (_t, h) = lab();
    let c = Digest::of(b"{}");
    let m = manifest(&c, 2);
    let ct = [("Content-Type", media::OCI_MANIFEST)];
    let r = call(&h, "PUT", "/v2/app/manifests/1", &ct, &m);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "MANIFEST_BLOB_UNKNOWN")
    );
    let big = vec![b' '; MAX_MANIFEST_BYTES + 1];
    let r = call(&h, "PUT", "/v2/app/manifests/1", &ct, &big);
    assert_eq!((r.status, code(&r).as_str()), (400, "MANIFEST_INVALID"));
    let r = call(&h, "PUT", "/v2/app/manifests/1", &ct, b"not json");
    assert_eq!(code(&r), "MANIFEST_INVALID");
    let r = call(&h, "PUT", &format!("/v2/app/manifests/{c}"), &ct, &m);
    assert_eq!(code(&r), "DIGEST_INVALID");
    let r = call(
        &h,
        "PUT",
        &format!("/v2/app/manifests/{}", Digest::of(&m)),
        &ct,
        &m,
    );
    assert_eq!(code(&r), "MANIFEST_BLOB_UNKNOWN");
}

#[test]
fn uploads_over_the_cap_are_refused_and_cut_back() {
    let (t, h) = lab();
    let h = h.max_upload(8);
    let body = b"0123456789";
    let r = call(
        &h,
        "POST",
        &format!("/v2/app/blobs/uploads/?digest={}", Digest::of(body)),
        &[],
        body,
    );
    assert_eq!((r.status, code(&r).as_str()), (413, "SIZE_INVALID"));
    let r = call(&h, "POST", "/v2/app/blobs/uploads/", &[], b"");
    let loc = r.header("Location").unwrap().to_string();
    let r = call(&h, "PATCH", &loc, &[], b"01234");
    assert_eq!(r.header("Range"), Some("0-4"));
    let r = call(&h, "PATCH", &loc, &[], b"56789");
    assert_eq!(r.status, 413);
    let r = call(&h, "GET", &loc, &[], b"");
    assert_eq!(r.header("Range"), Some("0-4"));
    assert_blobs_verified(t.path());
}

#[test]
fn mounts_link_what_the_source_has_else_start_an_upload() {
    let (_t, h) = lab();
    let d = push_blob(&h, "src", b"shared layer");
    let r = call(
        &h,
        "POST",
        &format!("/v2/dst/blobs/uploads/?mount={d}&from=src"),
        &[],
        b"",
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(d.to_string().as_str())
    );
    assert_eq!(
        call(&h, "HEAD", &format!("/v2/dst/blobs/{d}"), &[], b"").status,
        200
    );
    let other = Digest::of(b"nowhere");
    let r = call(
        &h,
        "POST",
        &format!("/v2/dst/blobs/uploads/?mount={other}&from=src"),
        &[],
        b"",
    );
    assert_eq!(r.status, 202);
    assert!(r.header("Docker-Upload-UUID").is_some());
}

#[test]
fn deletes_are_unsupported_unless_enabled() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().to_path_buf();
    let h = Handler::local(&root.join("_uploads"), &root, Policy::open());
    let d = push_blob(&h, "app", b"x");
    let r = call(&h, "DELETE", &format!("/v2/app/blobs/{d}"), &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (405, "UNSUPPORTED"));
}

/// An htpasswd-like factory: one user, `alice:secret`.
fn htpasswd(t: &tempfile::TempDir) -> Handler {
    let root = t.path().join("registry");
    Handler::new(&t.path().join("_uploads"), move |creds| {
        let user = match creds {
            None => None,
            Some((u, p)) if u == "alice" && p == "secret" => Some(u),
            Some(_) => return Err(RegistryError::code(Code::Unauthorized)),
        };
        let policy = Policy {
            auth: Auth::Htpasswd,
            user,
            delete_enabled: false,
        };
        Ok(Box::new(LocalRegistry::new(&root, policy)) as Box<dyn Registry + Send>)
    })
}

#[test]
fn basic_auth_is_required_by_an_htpasswd_policy() {
    use base64::Engine as _;
    let t = tempfile::tempdir().unwrap();
    let h = htpasswd(&t);
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    let r = call(&h, "GET", "/v2/", &[], b"");
    assert_eq!((r.status, code(&r).as_str()), (401, "UNAUTHORIZED"));
    assert_eq!(
        r.header("WWW-Authenticate"),
        Some("Basic realm=\"imagelab\"")
    );
    let wrong = basic("alice", "nope");
    let r = call(&h, "GET", "/v2/", &[("Authorization", &wrong)], b"");
    assert_eq!(r.status, 401);
    let good = basic("alice", "secret");
    let r = call(&h, "GET", "/v2/", &[("Authorization", &good)], b"");
    assert_eq!(r.status, 200);
    // Starting an upload is a push: refused without a user.
    let r = call(&h, "POST", "/v2/app/blobs/uploads/", &[], b"");
    assert_eq!(r.status, 401);
    assert!(!t.path().join("_uploads").exists());
    let r = call(
        &h,
        "POST",
        "/v2/app/blobs/uploads/",
        &[("Authorization", &good)],
        b"",
    );
    assert_eq!(r.status, 202);
    // The session is the user's business: anonymous PATCHes are refused.
    let loc = r.header("Location").unwrap().to_string();
    let r = call(&h, "PATCH", &loc, &[], b"x");
    assert_eq!(r.status, 401);
    let r = call(
        &h,
        "GET",
        "/v2/_catalog",
        &[("Authorization", "Basic !!")],
        b"",
    );
    assert_eq!(r.status, 401);
}

fn arb_request() -> impl Strategy<Value = (String, String, Vec<(String, String)>, Vec<u8>)> {
    let d = Digest::of(b"blob").to_string();
    let method = prop::sample::select(vec![
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "",
    ]);
    let name = prop::sample::select(vec![
        "app", "team/app", "a%2fb", "..", "a/../b", "A", "", "x/blobs", "%2e%2e", "a//b",
    ]);
    let tail = prop::sample::select(vec![
        "/tags/list".to_string(),
        "/tags/list?n=1&last=a".to_string(),
        "/manifests/latest".to_string(),
        "/manifests/..".to_string(),
        format!("/manifests/{d}"),
        format!("/blobs/{d}"),
        "/blobs/sha256:zz".to_string(),
        "/blobs/uploads/".to_string(),
        format!("/blobs/uploads/?digest={d}"),
        "/blobs/uploads/?digest=sha256%3A00".to_string(),
        format!("/blobs/uploads/?mount={d}&from=app"),
        "/blobs/uploads/SESSION".to_string(),
        format!("/blobs/uploads/SESSION?digest={d}"),
        "/blobs/uploads/../../x".to_string(),
        "/blobs/uploads/00000000-0000-4000-8000-000000000000".to_string(),
    ]);
    let raw = "[ -~]{0,40}";
    let path = prop_oneof![
        4 => (name, tail).prop_map(|(n, t)| format!("/v2/{n}{t}")),
        1 => raw.prop_map(|s| s.to_string()),
        1 => Just("/v2/_catalog?n=1000000".to_string()),
        1 => Just("/v2/".to_string()),
    ];
    let header = prop_oneof![
        ("Content-Range", "[0-9]{0,3}-?[0-9]{0,3}"),
        ("Content-Length", "[0-9]{0,4}"),
        ("Content-Type", "[ -~]{0,30}"),
        ("Authorization", "(Basic |Bearer )?[A-Za-z0-9+/=:!]{0,20}"),
    ]
    .prop_map(|(k, v)| (k.to_string(), v));
    let body = prop_oneof![
        Just(b"blob".to_vec()),
        Just(b"{\"schemaVersion\":2,\"layers\":[]}".to_vec()),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    (
        method.prop_map(str::to_string),
        path,
        prop::collection::vec(header, 0..3),
        body,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever arrives: no panic, no 5xx (storage is a healthy temp
    /// folder), and every stored blob hashes to its name.
    #[test]
    fn requests_never_panic_nor_store_a_wrong_blob(
        reqs in prop::collection::vec(arb_request(), 1..12)
    ) {
        let (t, h) = lab();
        let mut session = String::from("none");
        for (method, url, headers, body) in reqs {
            let url = url.replace("SESSION", &session);
            let hs: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r = call(&h, &method, &url, &hs, &body);
            prop_assert!(r.status < 500, "{method} {url}: {} {}", r.status, String::from_utf8_lossy(&r.body));
            if let Some(u) = r.header("Docker-Upload-UUID") {
                session = u.to_string();
            }
        }
        assert_blobs_verified(t.path());
    }
}
