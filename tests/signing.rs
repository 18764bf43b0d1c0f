//! cosign through the REPL's session: a key pair in the workspace, an image
//! pushed to a `registry:2` container, signed (the signature stored beside
//! it as `sha256-<hex>.sig`), verified, and refused once the tag moves, the
//! key is another one, or the stored signature is tampered with. Keys are
//! random, so snapshots filter signatures and assertions read structure.

mod common;
use common::Lab;
use imagelab::registry::{RefSpec, media};

fn snap(lab: &Lab, name: &str, text: String) {
    let name = format!("signing_{name}");
    let mut s = lab.settings();
    s.add_filter(
        r#""dev.cosignproject.cosign/signature": ?"[A-Za-z0-9+/=]+""#,
        r#""dev.cosignproject.cosign/signature": "[SIG]""#,
    );
    s.bind(|| insta::assert_snapshot!(name, text));
}

/// A registry on localhost:5000 holding `app:1.0`, and a key pair.
fn signed_lab() -> Lab {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo hi > /hi.txt\n");
    lab.ok("docker build -q -t localhost:5000/app:1.0 .");
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    lab.ok("docker push localhost:5000/app:1.0");
    lab.ok("export COSIGN_PASSWORD=s3cret");
    lab.ok("cosign generate-key-pair");
    lab
}

fn sig_manifest(lab: &Lab, tag: &str) -> serde_json::Value {
    let route = imagelab::network::route(lab.home(), "localhost:5000").unwrap();
    let m = route
        .registry
        .get_manifest("app", &RefSpec::Tag(tag.to_string()))
        .unwrap();
    assert_eq!(m.media_type, media::OCI_MANIFEST);
    serde_json::from_slice(&m.bytes).unwrap()
}

#[test]
fn generate_key_pair_writes_cosigns_two_files_and_asks_before_overwriting() {
    let mut lab = Lab::new();
    lab.ok("export COSIGN_PASSWORD=");
    let o = lab.run("cosign generate-key-pair");
    snap(&lab, "generate", o.both());
    let key = std::fs::read_to_string(lab.work().join("cosign.key")).unwrap();
    let public = std::fs::read_to_string(lab.work().join("cosign.pub")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(key.ends_with("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    // The PEM body is cosign's JSON: scrypt + NaCl secretbox.
    let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    let json: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["kdf"]["name"], "scrypt");
    assert_eq!(json["cipher"]["name"], "nacl/secretbox");
    // A second run asks; no answer keeps the old pair.
    let o = lab.run("cosign generate-key-pair");
    snap(&lab, "generate_again", o.both());
    assert_eq!(
        std::fs::read_to_string(lab.work().join("cosign.key")).unwrap(),
        key
    );
    lab.write("yes.txt", "y\n");
    let o = lab.run("cosign generate-key-pair < yes.txt");
    assert_eq!(o.code, 0);
    assert!(
        o.stderr
            .ends_with("Private key written to cosign.key\nPublic key written to cosign.pub\n")
    );
    assert_ne!(
        std::fs::read_to_string(lab.work().join("cosign.key")).unwrap(),
        key
    );
}

#[test]
fn sign_then_verify_with_the_public_key() {
    let mut lab = signed_lab();
    let o = lab.run("cosign sign --key cosign.key -y --tlog-upload=false localhost:5000/app:1.0");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "sign_tag", o.both());
    let digest = {
        let route = imagelab::network::route(lab.home(), "localhost:5000").unwrap();
        route
            .registry
            .get_manifest("app", &RefSpec::Tag("1.0".into()))
            .unwrap()
            .digest
    };
    let o = lab.ok("cosign triangulate localhost:5000/app:1.0");
    assert_eq!(
        o.stdout,
        format!("localhost:5000/app:sha256-{}.sig\n", digest.hex())
    );
    let sig_tag = format!("sha256-{}.sig", digest.hex());
    let m = sig_manifest(&lab, &sig_tag);
    snap(
        &lab,
        "sig_manifest",
        serde_json::to_string_pretty(&m).unwrap(),
    );
    let o = lab
        .run("cosign verify --key cosign.pub --insecure-ignore-tlog=true localhost:5000/app:1.0");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "verify_ok", o.both());
    // Without skipping the log: key-signed offline, there is no entry.
    let o = lab.run("cosign verify --key cosign.pub localhost:5000/app:1.0");
    assert_eq!(o.code, 12);
    snap(&lab, "verify_no_tlog", o.both());
    // By digest, with the signature by digest too.
    let o = lab.run(&format!(
        "cosign sign --key cosign.key --tlog-upload=false localhost:5000/app@{digest}"
    ));
    assert_eq!(o.code, 0, "{}", o.both());
    assert_eq!(o.stderr, "Pushing signature to: localhost:5000/app\n");
    // The same key over the same payload adds no second layer.
    assert_eq!(
        sig_manifest(&lab, &sig_tag)["layers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let o = lab.run(&format!(
        "cosign verify --key cosign.pub --insecure-ignore-tlog localhost:5000/app@{digest}"
    ));
    assert_eq!(o.code, 0, "{}", o.both());
    assert!(
        o.stderr
            .contains(&format!("Verification for localhost:5000/app@{digest} --"))
    );
}

#[test]
fn a_second_key_appends_a_layer_and_either_key_verifies() {
    let mut lab = signed_lab();
    lab.ok("cosign sign --key cosign.key --tlog-upload=false localhost:5000/app:1.0");
    std::fs::rename(lab.work().join("cosign.key"), lab.work().join("first.key")).unwrap();
    std::fs::rename(lab.work().join("cosign.pub"), lab.work().join("first.pub")).unwrap();
    lab.ok("cosign generate-key-pair");
    lab.ok("cosign sign --key cosign.key --tlog-upload=false localhost:5000/app:1.0");
    let t = lab.ok("cosign triangulate localhost:5000/app:1.0").stdout;
    let tag = t.trim().rsplit_once(':').unwrap().1.to_string();
    let layers = sig_manifest(&lab, &tag)["layers"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0]["digest"], layers[1]["digest"], "one payload");
    assert_ne!(layers[0]["annotations"], layers[1]["annotations"]);
    for key in ["first.pub", "cosign.pub"] {
        let o = lab.run(&format!(
            "cosign verify --key {key} --insecure-ignore-tlog localhost:5000/app:1.0"
        ));
        assert_eq!(o.code, 0, "{}", o.both());
        let v: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
        assert_eq!(
            v.as_array().unwrap().len(),
            1,
            "only the key's own signature"
        );
    }
}

#[test]
fn verify_fails_unsigned_moved_wrong_key_and_tampered() {
    let mut lab = signed_lab();
    // Unsigned.
    let o = lab.run("cosign verify --key cosign.pub --insecure-ignore-tlog localhost:5000/app:1.0");
    assert_eq!(o.code, 10);
    snap(&lab, "verify_unsigned", o.both());
    lab.ok("cosign sign --key cosign.key --tlog-upload=false localhost:5000/app:1.0");
    // Another key.
    std::fs::rename(lab.work().join("cosign.pub"), lab.work().join("good.pub")).unwrap();
    std::fs::rename(lab.work().join("cosign.key"), lab.work().join("good.key")).unwrap();
    lab.ok("cosign generate-key-pair");
    let o = lab.run("cosign verify --key cosign.pub --insecure-ignore-tlog localhost:5000/app:1.0");
    assert_eq!(o.code, 12);
    snap(&lab, "verify_wrong_key", o.both());
    let o = lab.run("cosign sign --key missing.key --tlog-upload=false localhost:5000/app:1.0");
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains(
        "Error: signing [localhost:5000/app:1.0]: getting signer: reading key: open missing.key: no such file or directory\n"
    ), "{}", o.both());
    // A wrong password does not open the key.
    let o = lab.run("COSIGN_PASSWORD=nope cosign sign --key good.key --tlog-upload=false localhost:5000/app:1.0");
    assert_eq!(o.code, 1);
    snap(&lab, "sign_wrong_password", o.both());
    // Tampered: one signature byte changed in the stored manifest.
    let digest_tag = lab
        .ok("cosign triangulate localhost:5000/app:1.0")
        .stdout
        .trim()
        .rsplit_once(':')
        .unwrap()
        .1
        .to_string();
    let route = imagelab::network::route(lab.home(), "localhost:5000").unwrap();
    let mut m = sig_manifest(&lab, &digest_tag);
    let ann = &mut m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"];
    let sig = ann.as_str().unwrap().to_string();
    let flipped = if sig.starts_with('M') { "N" } else { "M" };
    *ann = serde_json::Value::String(format!("{flipped}{}", &sig[1..]));
    route
        .registry
        .put_manifest(
            "app",
            &RefSpec::Tag(digest_tag.clone()),
            media::OCI_MANIFEST,
            &serde_json::to_vec(&m).unwrap(),
        )
        .unwrap();
    let o = lab.run("cosign verify --key good.pub --insecure-ignore-tlog localhost:5000/app:1.0");
    assert_eq!(o.code, 12, "{}", o.both());
    assert!(o.stderr.contains(
        "Error: no matching signatures: invalid signature when validating ASN.1 encoded signature\n"
    ));
    // Re-signing restores a good signature beside the broken one.
    lab.ok("cosign sign --key good.key --tlog-upload=false localhost:5000/app:1.0");
    lab.ok("cosign verify --key good.pub --insecure-ignore-tlog localhost:5000/app:1.0");
    // The tag moved to other content: its new digest has no signature.
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo other > /hi.txt\n");
    lab.ok("docker build -q -t localhost:5000/app:1.0 .");
    lab.ok("docker push localhost:5000/app:1.0");
    let o = lab.run("cosign verify --key good.pub --insecure-ignore-tlog localhost:5000/app:1.0");
    assert_eq!(o.code, 10);
    assert!(o.stderr.contains("Error: no signatures found\n"));
}

#[test]
fn cosign_errors_read_as_cosigns() {
    let mut lab = Lab::new();
    lab.ok("export COSIGN_PASSWORD=x");
    lab.ok("cosign generate-key-pair");
    let o = lab.run("cosign sign --key cosign.key localhost:5000/app:1.0");
    assert_eq!(o.code, 1);
    snap(&lab, "sign_no_registry", o.both());
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    let o = lab.run("cosign sign --key cosign.key localhost:5000/app:1.0");
    snap(&lab, "sign_unknown_image", o.both());
    let o = lab.run("cosign verify --key cosign.pub localhost:5000/app:1.0");
    assert_eq!(o.code, 11);
    let o = lab.run("cosign frobnicate");
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error: unknown command \"frobnicate\" for \"cosign\"\nRun 'cosign --help' for usage.\n"
    );
}
