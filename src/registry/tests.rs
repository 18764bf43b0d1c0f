use super::local::{Auth, LocalRegistry, Policy};
use super::*;

fn reg(dir: &std::path::Path) -> LocalRegistry {
    LocalRegistry::new(dir, Policy::open())
}

fn manifest(config: &Digest, layers: &[(Digest, u64)]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::DOCKER_MANIFEST,
        "config": {"mediaType": media::DOCKER_CONFIG, "digest": config.to_string(), "size": 2},
        "layers": layers.iter().map(|(d, s)| serde_json::json!({
            "mediaType": media::DOCKER_LAYER, "digest": d.to_string(), "size": s
        })).collect::<Vec<_>>(),
    }))
    .unwrap()
}

#[test]
fn names_follow_distribution_grammar() {
    for ok in [
        "a",
        "library/nginx",
        "my-app",
        "a__b",
        "a.b/c_d",
        "x--y",
        "0/1/2",
    ] {
        assert!(valid_name(ok), "{ok}");
    }
    for bad in [
        "", "A", "/a", "a/", "a//b", "..", "a/../b", "-a", "a-", "a___b", "a.", "a b", "a%2f",
    ] {
        assert!(!valid_name(bad), "{bad}");
    }
    assert!(valid_tag("v1.0_rc-1"));
    assert!(!valid_tag(".x"));
    assert!(!valid_tag(&"a".repeat(129)));
}

#[test]
fn blob_upload_is_verified_and_linked_per_repository() {
    let t = tempfile::tempdir().unwrap();
    let r = reg(t.path());
    let body = b"layer bytes".to_vec();
    let d = Digest::of(&body);
    let wrong = Digest::of(b"other");
    let e = r.put_blob("app", Some(&wrong), &mut &body[..]).unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::DigestInvalid));
    assert_eq!(r.stat_blob("app", &wrong).unwrap(), None);
    assert_eq!(
        r.put_blob("app", Some(&d), &mut &body[..]).unwrap(),
        (d.clone(), 11)
    );
    assert_eq!(r.stat_blob("app", &d).unwrap(), Some(11));
    // Another repository does not see it until it is mounted.
    assert_eq!(r.stat_blob("other", &d).unwrap(), None);
    let e = r.get_blob("other", &d).err().unwrap();
    assert_eq!(e.spec_code(), Some(Code::BlobUnknown));
    assert!(r.mount_blob("other", "app", &d).unwrap());
    let mut got = Vec::new();
    r.get_blob("other", &d)
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(got, body);
    assert!(!r.mount_blob("third", "nowhere", &wrong).unwrap());
}

#[test]
fn manifests_need_their_blobs_and_tags_follow_pushes() {
    let t = tempfile::tempdir().unwrap();
    let r = reg(t.path());
    let config = b"{}".to_vec();
    let c = Digest::of(&config);
    let m = manifest(&c, &[]);
    let tag = RefSpec::Tag("1.0".into());
    let e = r
        .put_manifest("app", &tag, media::DOCKER_MANIFEST, &m)
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::ManifestBlobUnknown));
    assert_eq!(r.catalog().unwrap(), Vec::<String>::new());
    r.put_blob("app", Some(&c), &mut &config[..]).unwrap();
    let d = r
        .put_manifest("app", &tag, media::DOCKER_MANIFEST, &m)
        .unwrap();
    assert_eq!(d, Digest::of(&m));
    let got = r.get_manifest("app", &tag).unwrap();
    assert_eq!(got.bytes, m);
    assert_eq!(got.media_type, media::DOCKER_MANIFEST);
    assert_eq!(
        r.get_manifest("app", &RefSpec::Digest(d.clone()))
            .unwrap()
            .bytes,
        m
    );
    assert_eq!(r.tags("app").unwrap(), vec!["1.0"]);
    assert_eq!(r.catalog().unwrap(), vec!["app"]);
    let e = r.get_manifest("nope", &tag).unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::NameUnknown));
    let e = r
        .get_manifest("app", &RefSpec::Tag("2.0".into()))
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::ManifestUnknown));
    let e = r
        .put_manifest("app", &tag, media::DOCKER_MANIFEST, b"{nope")
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::ManifestInvalid));
}

#[test]
fn deletes_need_delete_enabled_and_gc_removes_unreferenced_blobs() {
    let t = tempfile::tempdir().unwrap();
    let r = reg(t.path());
    let config = b"{}".to_vec();
    let c = Digest::of(&config);
    let layer = b"abc".to_vec();
    let l = Digest::of(&layer);
    r.put_blob("app", Some(&c), &mut &config[..]).unwrap();
    r.put_blob("app", Some(&l), &mut &layer[..]).unwrap();
    let m = manifest(&c, &[(l.clone(), 3)]);
    let d = r
        .put_manifest("app", &RefSpec::Tag("v1".into()), "", &m)
        .unwrap();
    let e = r
        .delete_manifest("app", &RefSpec::Digest(d.clone()))
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::Unsupported));
    assert!(r.garbage_collect(false).unwrap().is_empty());
    let r = LocalRegistry::new(
        t.path(),
        Policy {
            delete_enabled: true,
            ..Policy::open()
        },
    );
    r.delete_manifest("app", &RefSpec::Digest(d.clone()))
        .unwrap();
    assert_eq!(r.tags("app").unwrap(), Vec::<String>::new());
    let removed = r.garbage_collect(false).unwrap();
    assert_eq!(removed.len(), 3, "config, layer and manifest: {removed:?}");
}

#[test]
fn hub_policy_guards_namespaces_and_private_repositories() {
    let t = tempfile::tempdir().unwrap();
    let as_user = |u: Option<&str>| {
        LocalRegistry::new(
            t.path(),
            Policy {
                auth: Auth::Hub,
                user: u.map(str::to_string),
                delete_enabled: false,
            },
        )
    };
    let body = b"x".to_vec();
    let anon = as_user(None);
    let e = anon
        .put_blob("alice/app", None, &mut &body[..])
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::Unauthorized));
    let bob = as_user(Some("bob"));
    let e = bob.put_blob("alice/app", None, &mut &body[..]).unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::Denied));
    let e = bob
        .put_blob("library/app", None, &mut &body[..])
        .unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::Denied));
    let alice = as_user(Some("alice"));
    let (d, _) = alice.put_blob("alice/app", None, &mut &body[..]).unwrap();
    assert_eq!(bob.stat_blob("alice/app", &d).unwrap(), Some(1));
    alice.set_private("alice/app", true).unwrap();
    let e = bob.stat_blob("alice/app", &d).unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::Denied));
    assert_eq!(alice.stat_blob("alice/app", &d).unwrap(), Some(1));
}

#[test]
fn truncated_or_lying_readers_store_nothing() {
    let t = tempfile::tempdir().unwrap();
    let r = reg(t.path());
    let body = b"0123456789".to_vec();
    let d = Digest::of(&body);
    // A verifying reader over the wrong bytes fails mid-stream.
    let mut lying = VerifyingReader::new(&b"012345678X"[..], d.clone());
    assert!(r.put_blob("app", None, &mut lying).is_err());
    assert_eq!(r.stat_blob("app", &d).unwrap(), None);
    let e = r.put_blob("app", Some(&d), &mut &body[..5]).unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::DigestInvalid));
    let e = r.put_blob("../x", None, &mut &body[..]).unwrap_err();
    assert_eq!(e.spec_code(), Some(Code::NameInvalid));
    assert!(!t.path().join("docker/registry/x").exists());
}
