//! Docker Content Trust through the REPL's session: `DOCKER_CONTENT_TRUST=1`
//! signs on push and verifies on pull against a `registry:2` container,
//! `docker trust` keys, signers, sign, inspect and revoke, and the
//! verification failing once the stored trust data is tampered with. Keys
//! come from `IMAGELAB_TRUST_SEED`, so key IDs and signatures are the same
//! every run and snapshots assert them exactly.

mod common;
use common::Lab;

fn snap(lab: &Lab, name: &str, text: String) {
    let name = format!("trust_{name}");
    lab.settings().bind(|| insta::assert_snapshot!(name, text));
}

/// A registry on localhost:5000 holding nothing yet, `app:1.0` built, and
/// trust on with both passphrases in the environment.
fn trust_lab() -> Lab {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo hi > /hi.txt\n");
    lab.ok("docker build -q -t localhost:5000/app:1.0 .");
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    lab.ok("export IMAGELAB_TRUST_SEED=lab");
    lab.ok("export DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE=root-secret DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE=repo-secret");
    lab
}

fn server_file(lab: &Lab, name: &str) -> std::path::PathBuf {
    lab.home().join("notary/localhost:5000/app").join(name)
}

/// Another image under `localhost:5000/app:1.0` (the tag moved).
fn move_tag(lab: &mut Lab) {
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo moved > /hi.txt\n");
    lab.ok("docker build -q -t localhost:5000/app:1.0 .");
}

#[test]
fn push_with_trust_signs_the_tag_and_creates_the_keys_once() {
    let mut lab = trust_lab();
    let o = lab.run("DOCKER_CONTENT_TRUST=1 docker push localhost:5000/app:1.0");
    snap(&lab, "push_first", o.both());
    assert_eq!(o.code, 0);
    for f in [
        "root.json",
        "targets.json",
        "snapshot.json",
        "timestamp.json",
    ] {
        assert!(server_file(&lab, f).is_file(), "{f}");
    }
    // Two private keys in docker's trust folder: root and repository.
    let keys = std::fs::read_dir(lab.home().join("docker/trust/private"))
        .unwrap()
        .count();
    assert_eq!(keys, 2);
    // A second tag reuses them: no initialization.
    lab.ok("docker tag localhost:5000/app:1.0 localhost:5000/app:1.1");
    lab.ok("export DOCKER_CONTENT_TRUST=1");
    let o = lab.run("docker push localhost:5000/app:1.1");
    snap(&lab, "push_second", o.both());
    let keys = std::fs::read_dir(lab.home().join("docker/trust/private"))
        .unwrap()
        .count();
    assert_eq!(keys, 2);
}

#[test]
fn passphrases_are_prompted_for_and_read_from_standard_input() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo hi > /hi.txt\n");
    lab.ok("docker build -q -t localhost:5000/app:1.0 .");
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    lab.ok("export IMAGELAB_TRUST_SEED=lab DOCKER_CONTENT_TRUST=1");
    // No passphrase anywhere: the prompt finds no input.
    let o = lab.run("docker push localhost:5000/app:1.0");
    snap(&lab, "push_no_passphrase", o.both());
    assert_eq!(o.code, 1);
    lab.write(
        "pass.txt",
        "short\nroot-secret\nroot-secret\nrepo-secret\nrepo-secret\n",
    );
    let o = lab.run("docker push localhost:5000/app:1.0 < pass.txt");
    snap(&lab, "push_prompts", o.both());
    assert_eq!(o.code, 0);
}

#[test]
fn pull_with_trust_refuses_unsigned_tags_and_pulls_signed_ones_by_digest() {
    let mut lab = trust_lab();
    lab.ok("DOCKER_CONTENT_TRUST=1 docker push localhost:5000/app:1.0");
    lab.ok("docker tag localhost:5000/app:1.0 localhost:5000/app:unsigned");
    lab.ok("docker push localhost:5000/app:unsigned");
    lab.ok("docker rmi localhost:5000/app:1.0 localhost:5000/app:unsigned");
    lab.ok("export DOCKER_CONTENT_TRUST=1");
    let o = lab.run("docker pull localhost:5000/app:unsigned");
    snap(&lab, "pull_unsigned", o.both());
    assert_eq!(o.code, 1);
    // --disable-content-trust pulls it anyway.
    lab.ok("docker pull --disable-content-trust localhost:5000/app:unsigned");
    let o = lab.run("docker pull localhost:5000/app:1.0");
    snap(&lab, "pull_signed", o.both());
    assert_eq!(o.code, 0);
    assert!(
        lab.ok("docker images localhost:5000/app")
            .stdout
            .contains("1.0")
    );
    // A repository with no trust data at all.
    lab.ok("docker tag localhost:5000/app:1.0 localhost:5000/other:1.0");
    lab.ok("docker push --disable-content-trust localhost:5000/other:1.0");
    let o = lab.run("docker pull localhost:5000/other:1.0");
    snap(&lab, "pull_no_trust_data", o.both());
    assert_eq!(o.code, 1);
}

#[test]
fn a_moved_tag_pulls_the_signed_digest_and_forged_trust_data_fails() {
    let mut lab = trust_lab();
    let signed = lab
        .ok("DOCKER_CONTENT_TRUST=1 docker push localhost:5000/app:1.0")
        .stdout;
    let signed_digest = signed
        .lines()
        .find_map(|l| l.strip_prefix("1.0: digest: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    // The tag moves to other content, pushed without signing.
    move_tag(&mut lab);
    let moved = lab.ok("docker push localhost:5000/app:1.0").stdout;
    assert!(!moved.contains(&signed_digest));
    lab.ok("docker rmi localhost:5000/app:1.0");
    let o = lab.run("DOCKER_CONTENT_TRUST=1 docker pull localhost:5000/app:1.0");
    assert_eq!(o.code, 0, "{}", o.both());
    assert!(
        o.stdout.starts_with(&format!(
            "Pull (1 of 1): localhost:5000/app:1.0@{signed_digest}\n"
        )),
        "{}",
        o.stdout
    );
    // Pointing the signed tag at the moved content without the targets
    // key: the checksum the snapshot lists no longer matches.
    let moved_digest = moved
        .lines()
        .find_map(|l| l.strip_prefix("1.0: digest: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let path = server_file(&lab, "targets.json");
    let text = std::fs::read_to_string(&path).unwrap();
    use base64::Engine as _;
    let b64 = |d: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(hex::decode(d.trim_start_matches("sha256:")).unwrap())
    };
    let forged = text.replace(&b64(&signed_digest), &b64(&moved_digest));
    assert_ne!(forged, text);
    std::fs::write(&path, &forged).unwrap();
    let o = lab.run("DOCKER_CONTENT_TRUST=1 docker pull localhost:5000/app:1.0");
    snap(&lab, "pull_forged_targets", o.both());
    assert_eq!(o.code, 1);
}

#[test]
fn tampered_signatures_and_a_replaced_root_fail_verification() {
    let mut lab = trust_lab();
    lab.ok("DOCKER_CONTENT_TRUST=1 docker push localhost:5000/app:1.0");
    let ts = server_file(&lab, "timestamp.json");
    let good = std::fs::read_to_string(&ts).unwrap();
    // A changed timestamp (its expiry pushed out) no longer verifies.
    let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
    v["signed"]["expires"] = "2099-01-01T00:00:00Z".into();
    std::fs::write(&ts, serde_json::to_vec(&v).unwrap()).unwrap();
    let o = lab.run("DOCKER_CONTENT_TRUST=1 docker pull localhost:5000/app:1.0");
    snap(&lab, "pull_tampered_timestamp", o.both());
    assert_eq!(o.code, 1);
    // Not JSON at all.
    std::fs::write(&ts, "garbage").unwrap();
    let o = lab.run("DOCKER_CONTENT_TRUST=1 docker pull localhost:5000/app:1.0");
    snap(&lab, "pull_garbage_timestamp", o.both());
    std::fs::write(&ts, &good).unwrap();
    lab.ok("DOCKER_CONTENT_TRUST=1 docker pull localhost:5000/app:1.0");
    // Someone re-initializes the repository with their own keys: the root
    // pinned on first use no longer matches.
    let pinned = lab
        .home()
        .join("docker/trust/tuf/localhost:5000/app/metadata/root.json");
    let first = std::fs::read(&pinned).unwrap();
    std::fs::remove_dir_all(lab.home().join("notary/localhost:5000/app")).unwrap();
    std::fs::remove_dir_all(lab.home().join("docker/trust/private")).unwrap();
    std::fs::remove_file(&pinned).unwrap();
    lab.ok("export IMAGELAB_TRUST_SEED=attacker");
    lab.ok("DOCKER_CONTENT_TRUST=1 docker push localhost:5000/app:1.0");
    std::fs::write(&pinned, first).unwrap();
    let o = lab.run("DOCKER_CONTENT_TRUST=1 docker pull localhost:5000/app:1.0");
    snap(&lab, "pull_root_mismatch", o.both());
    assert_eq!(o.code, 1);
}

#[test]
fn signers_are_added_sign_and_are_removed() {
    let mut lab = trust_lab();
    let o = lab.run("docker trust key generate alice");
    snap(&lab, "key_generate", o.both());
    assert!(lab.work().join("alice.pub").is_file());
    let pem = std::fs::read_to_string(lab.work().join("alice.pub")).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nrole: alice\n\n"));
    let o = lab.run("docker trust key generate alice");
    assert_eq!(o.code, 1);
    let o = lab.run("docker trust signer add --key alice.pub alice localhost:5000/app");
    snap(&lab, "signer_add", o.both());
    assert_eq!(o.code, 0);
    let o = lab.run("docker trust sign localhost:5000/app:1.0");
    snap(&lab, "sign", o.both());
    assert_eq!(o.code, 0);
    let o = lab.run("docker trust inspect --pretty localhost:5000/app");
    snap(&lab, "inspect_pretty", o.both());
    let o = lab.run("docker trust inspect localhost:5000/app:1.0");
    snap(&lab, "inspect_json", o.both());
    // alice signed the last release: removing her asks first.
    let o = lab.run("docker trust signer remove alice localhost:5000/app");
    snap(&lab, "signer_remove_asks", o.both());
    assert_eq!(o.code, 0);
    let o = lab.run("docker trust signer remove -f alice localhost:5000/app");
    snap(&lab, "signer_remove", o.both());
    assert_eq!(o.code, 0);
    let o = lab.run("docker trust signer remove alice localhost:5000/app");
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .starts_with("no signer alice for repository localhost:5000/app\n"),
        "{}",
        o.stderr
    );
    // Her release no longer verifies: the tag is unsigned now.
    let o = lab.run("DOCKER_CONTENT_TRUST=1 docker pull localhost:5000/app:1.0");
    assert_eq!(o.stderr, "No valid trust data for 1.0\n");
}

#[test]
fn revoke_removes_the_signature_and_pull_then_refuses() {
    let mut lab = trust_lab();
    lab.ok("DOCKER_CONTENT_TRUST=1 docker push localhost:5000/app:1.0");
    let o = lab.run("docker trust revoke localhost:5000/app:1.0");
    snap(&lab, "revoke", o.both());
    assert_eq!(o.code, 0);
    let o = lab.run("docker trust revoke localhost:5000/app:1.0");
    snap(&lab, "revoke_again", o.both());
    assert_eq!(o.code, 1);
    let o = lab.run("DOCKER_CONTENT_TRUST=1 docker pull localhost:5000/app:1.0");
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr, "No valid trust data for 1.0\n");
    let o = lab.run("docker trust inspect --pretty localhost:5000/app:1.0");
    snap(&lab, "inspect_pretty_revoked", o.both());
}

#[test]
fn trust_words_check_their_arguments_as_docker_does() {
    let mut lab = Lab::new();
    let o = lab.run("docker trust sign localhost:5000/app");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "no tag specified for localhost:5000/app\n")
    );
    let o = lab.run("docker trust key generate Alice");
    assert_eq!(o.code, 1);
    let o = lab.run("docker trust signer add alice localhost:5000/app");
    assert_eq!(
        o.stderr,
        "path to a public key must be provided using the `--key` flag\n"
    );
    let o = lab.run("docker trust inspect localhost:5000/none");
    snap(&lab, "inspect_missing", o.both());
    let o = lab.run("docker trust");
    assert!(o.stdout.contains("Usage:  docker trust COMMAND"));
}

#[test]
fn key_load_imports_a_private_key_kept_private() {
    use p256::pkcs8::EncodePrivateKey;
    let mut lab = trust_lab();
    let key = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
    let pem = key
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string();
    lab.write("bob.key", &pem);
    let path = lab.work().join("bob.key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = lab.run("docker trust key load bob.key --name bob");
    snap(&lab, "key_load_readable", o.both());
    assert_eq!(o.code, 1);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = lab.run("docker trust key load bob.key --name bob");
    snap(&lab, "key_load", o.both());
    assert_eq!(o.code, 0);
    let id = imagelab::trust::key_id(key.verifying_key());
    let stored = lab.home().join(format!("docker/trust/private/{id}.key"));
    assert!(
        std::fs::read_to_string(stored)
            .unwrap()
            .starts_with("role: bob\n")
    );
    lab.write("not-a-key.txt", "hello\n");
    std::fs::set_permissions(
        lab.work().join("not-a-key.txt"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let o = lab.run("docker trust key load not-a-key.txt");
    snap(&lab, "key_load_not_a_key", o.both());
    assert_eq!(o.code, 1);
}

#[test]
fn pull_all_tags_with_trust_pulls_every_released_tag() {
    let mut lab = trust_lab();
    lab.ok("export DOCKER_CONTENT_TRUST=1");
    lab.ok("docker push localhost:5000/app:1.0");
    lab.ok("docker tag localhost:5000/app:1.0 localhost:5000/app:2.0");
    lab.ok("docker push localhost:5000/app:2.0");
    lab.ok("docker rmi localhost:5000/app:1.0 localhost:5000/app:2.0");
    let o = lab.run("docker pull -a localhost:5000/app");
    snap(&lab, "pull_all_tags", o.both());
    assert_eq!(o.code, 0);
}

#[test]
fn official_images_are_signed_and_run_checks_trust_before_it_creates() {
    let mut lab = Lab::new();
    lab.ok("export DOCKER_CONTENT_TRUST=1");
    // docker/cli's trustedPull: the signed digest pulled by digest, then
    // tagged (the `Tagging` line goes to stderr).
    let o = lab.run("docker pull alpine:3.20");
    snap(&lab, "pull_official", o.both());
    assert_eq!(o.code, 0);
    assert!(o.stdout.starts_with("Pull (1 of 1): alpine:3.20@sha256:"));
    assert!(o.stderr.starts_with("Tagging alpine@sha256:"));
    lab.ok("docker run --rm alpine:3.20 true");
    // A local tag that was never signed: run resolves it through the trust
    // server first (image.TrustedReference), local image or not.
    lab.ok("docker tag alpine:3.20 myapp:1");
    let o = lab.run("docker run --rm myapp:1 true");
    assert_eq!(o.code, 125);
    assert_eq!(
        o.stderr,
        "docker: Error: remote trust data does not exist for docker.io/library/myapp: https://notary.docker.io does not have trust data for docker.io/library/myapp\n\nRun 'docker run --help' for more information\n"
    );
    lab.ok("docker run --disable-content-trust --rm myapp:1 true");
    lab.ok("DOCKER_CONTENT_TRUST=0 docker run --rm myapp:1 true");
    // A repository under library/ that is not an official image has no
    // trust data either.
    let o = lab.run("docker pull myapp:1");
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("does not have trust data for docker.io/library/myapp")
    );
}
