//! Registries end to end through the REPL's session: `registry:2` as a
//! container on localhost:5000, push and pull with docker's lines, the
//! simulated Docker Hub's login and namespace rules, and the store's
//! distribution records (a second push of the same layers is metadata only).

mod common;
use common::Lab;

fn snap(lab: &Lab, name: &str, text: String) {
    let name = format!("registry_{name}");
    lab.settings().bind(|| insta::assert_snapshot!(name, text));
}

fn app_image(lab: &mut Lab) {
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo hi > /hi.txt\n");
    lab.ok("docker build -q -t app .");
}

#[test]
fn push_to_a_local_registry_container_then_pull_back() {
    let mut lab = Lab::new();
    app_image(&mut lab);
    lab.ok("docker tag app localhost:5000/app:1.0");
    let o = lab.run("docker push localhost:5000/app:1.0");
    assert_eq!(o.code, 1, "no registry yet");
    snap(&lab, "push_refused", o.both());
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    let o = lab.run("docker push localhost:5000/app:1.0");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "push_first", o.both());
    let again = lab.run("docker push localhost:5000/app:1.0");
    snap(&lab, "push_again", again.both());
    lab.ok("docker tag app localhost:5000/team/other");
    let o = lab.run("docker push localhost:5000/team/other");
    snap(&lab, "push_mounted_default_tag", o.both());
    lab.ok("docker rmi localhost:5000/app:1.0");
    let o = lab.run("docker pull localhost:5000/app:1.0");
    snap(&lab, "pull_back", o.both());
    let o = lab.run("docker pull localhost:5000/app:1.0");
    assert!(
        o.stdout
            .contains("Status: Image is up to date for localhost:5000/app:1.0")
    );
    let o = lab.run("docker image inspect -f '{{json .RepoDigests}}' app");
    snap(&lab, "repo_digests", o.both());
    let o = lab.run("docker pull localhost:5000/nope");
    assert_eq!(o.code, 1);
    snap(&lab, "pull_unknown_repo", o.both());
    let o = lab.run("docker pull localhost:5000/app:2.0");
    snap(&lab, "pull_unknown_tag", o.both());
    // Stopping the registry refuses pushes again; the data stays with the
    // container (no volume) until it is removed.
    lab.ok("docker stop registry");
    let o = lab.run("docker push localhost:5000/app:1.0");
    assert!(o.stderr.contains("connection refused"), "{}", o.both());
    lab.ok("docker start registry");
    lab.ok("docker pull localhost:5000/app:1.0");
}

#[test]
fn a_volume_keeps_registry_data_across_containers() {
    let mut lab = Lab::new();
    app_image(&mut lab);
    lab.ok("docker run -d -p 5000:5000 -v regdata:/var/lib/registry --name r1 registry:2");
    lab.ok("docker tag app localhost:5000/app");
    lab.ok("docker push localhost:5000/app");
    lab.ok("docker rm -f r1");
    lab.ok("docker run -d -p 5000:5000 -v regdata:/var/lib/registry --name r2 registry:2");
    lab.ok("docker rmi localhost:5000/app");
    lab.ok("docker pull localhost:5000/app");
    lab.ok("docker rm -f r2");
    lab.ok("docker run -d -p 5000:5000 --name r3 registry:2");
    let o = lab.run("docker pull localhost:5000/app");
    assert_eq!(o.code, 1, "a fresh registry has nothing: {}", o.both());
}

#[test]
fn push_of_a_missing_tag_names_it() {
    let mut lab = Lab::new();
    lab.ok("docker run -d -p 5000:5000 registry:2");
    let o = lab.run("docker push localhost:5000/nothing");
    assert_eq!(o.code, 1);
    snap(&lab, "push_missing_tag", o.both());
}

#[test]
fn docker_hub_needs_a_login_and_ones_own_namespace() {
    let mut lab = Lab::new();
    app_image(&mut lab);
    lab.ok("docker tag app student1/app:1.0");
    let o = lab.run("docker push student1/app:1.0");
    assert_eq!(o.code, 1);
    snap(&lab, "hub_push_denied", o.both());
    let o = lab.run("docker login -u student1 -p s3cret");
    assert_eq!(o.code, 0);
    snap(&lab, "hub_login", o.both());
    let cfg = std::fs::read_to_string(lab.home().join("docker/config.json")).unwrap();
    assert!(cfg.contains("\"https://index.docker.io/v1/\""), "{cfg}");
    assert!(
        cfg.contains("c3R1ZGVudDE6czNjcmV0"),
        "base64 of student1:s3cret: {cfg}"
    );
    let o = lab.run("docker push student1/app:1.0");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "hub_push", o.both());
    lab.ok("docker tag app someoneelse/app");
    let o = lab.run("docker push someoneelse/app");
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("denied: requested access to the resource is denied")
    );
    let o = lab.run("docker logout");
    snap(&lab, "hub_logout", o.both());
    let o = lab.run("docker login -u student1 -p wrong");
    assert_eq!(o.code, 1);
    snap(&lab, "hub_login_wrong_password", o.both());
    // Public by default: pullable without a login.
    lab.ok("docker rmi student1/app:1.0");
    let o = lab.run("docker pull student1/app:1.0");
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker pull student1/nothing");
    snap(&lab, "hub_pull_unknown", o.both());
}

#[test]
fn login_reads_the_password_from_stdin() {
    let mut lab = Lab::new();
    lab.write("pw.txt", "s3cret\n");
    let o = lab.run("docker login --password-stdin < pw.txt");
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr, "Must provide --username with --password-stdin\n");
    let o = lab.run("docker login -u student1 --password-stdin < pw.txt");
    assert_eq!(o.code, 0, "{}", o.both());
    assert!(!o.stderr.contains("Using --password"));
    let o = lab.run("docker login localhost:5000 -u a -p b");
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("connection refused"), "{}", o.both());
}

#[test]
fn search_lists_official_and_pushed_public_repositories() {
    let mut lab = Lab::new();
    let o = lab.run("docker search nginx");
    snap(&lab, "search_nginx", o.both());
    let o = lab.run("docker search --filter is-official=true --filter stars=1000 --limit 5 o");
    snap(&lab, "search_filtered", o.both());
    let o = lab
        .run("docker search --no-trunc --format '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}' alpine");
    snap(&lab, "search_format", o.both());
    let o = lab.run("docker search --filter color=blue nginx");
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error response from daemon: invalid filter 'color'\n"
    );
    let o = lab.run("docker search --limit 0 nginx");
    assert_eq!(o.code, 1);
    // A learner's public repository is found once pushed.
    app_image(&mut lab);
    lab.ok("docker login -u student1 -p s3cret");
    lab.ok("docker tag app student1/webshop");
    lab.ok("docker push student1/webshop");
    let o = lab.run("docker search webshop");
    snap(&lab, "search_pushed", o.both());
}

#[test]
fn a_registry_on_the_lab_host_needs_insecure_registries_and_a_daemon_restart() {
    let mut lab = Lab::new();
    app_image(&mut lab);
    lab.ok("docker run -d -p 5000:5000 --restart=always --name registry registry:2");
    lab.ok("docker run -d -p 5001:5000 --name second registry:2");
    lab.ok("docker tag app labhost:5000/app");
    let o = lab.run("docker push labhost:5000/app");
    assert_eq!(o.code, 1);
    snap(&lab, "push_https_to_http", o.both());
    // A daemon.json that does not parse leaves the daemon down.
    lab.ok("echo '{\"insecure-registries\": [labhost:5000]}' > /etc/docker/daemon.json");
    let o = lab.run("systemctl restart docker");
    assert_eq!(o.code, 1);
    snap(&lab, "daemon_bad_json", o.both());
    let o = lab.run("docker images");
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("Is the docker daemon running?"));
    lab.ok("echo '{\"insecure-registries\": [\"labhost:5000\", \"10.0.2.0/24\"]}' > /etc/docker/daemon.json");
    lab.ok("systemctl restart docker");
    let o = lab.ok("cat /etc/docker/daemon.json");
    assert!(o.stdout.contains("labhost:5000"));
    // The restart stopped the container without a restart policy.
    let o = lab.ok("docker ps --format '{{.Names}}'");
    assert_eq!(o.stdout, "registry\n");
    let o = lab.run("docker push labhost:5000/app");
    assert_eq!(o.code, 0, "{}", o.both());
    lab.ok("docker start second");
    lab.ok("docker tag app 10.0.2.15:5001/app");
    lab.ok("docker push 10.0.2.15:5001/app");
    lab.ok("docker tag app nowhere.example:5000/app");
    let o = lab.run("docker push nowhere.example:5000/app");
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("lookup nowhere.example"), "{}", o.both());
}

#[test]
fn the_grader_asks_the_registry_what_it_holds() {
    use imagelab::exercise::RegistryCond;
    let mut lab = Lab::new();
    app_image(&mut lab);
    lab.ok("docker pull alpine:3.20");
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    lab.ok("docker tag alpine:3.20 localhost:5000/myapp:1.0");
    lab.ok("docker push localhost:5000/myapp:1.0");
    let engine = lab.session.engine().unwrap();
    let remembered = std::collections::BTreeMap::new();
    let work = lab.work();
    let facts = imagelab::grader::Facts {
        engine: &engine,
        workspace: &work,
        remembered: &remembered,
    };
    let check = |reference: &str, image: Option<&str>| {
        imagelab::grader::check_cond(
            &imagelab::exercise::Cond::RegistryHas(RegistryCond {
                reference: reference.into(),
                image: image.map(str::to_string),
            }),
            &facts,
        )
    };
    assert_eq!(
        check("localhost:5000/myapp:1.0", Some("alpine:3.20")),
        Ok(())
    );
    let e = check("localhost:5000/myapp:1.0", Some("app")).unwrap_err();
    assert!(e.contains("not app"), "{e}");
    let e = check("localhost:5000/myapp:2.0", None).unwrap_err();
    assert!(e.contains("manifest unknown"), "{e}");
    let e = check("localhost:5001/myapp:1.0", None).unwrap_err();
    assert!(e.contains("connection refused"), "{e}");
}

#[test]
fn all_tags_push_and_pull() {
    let mut lab = Lab::new();
    app_image(&mut lab);
    lab.ok("docker run -d -p 5000:5000 registry:2");
    lab.ok("docker tag app localhost:5000/multi:a");
    lab.ok("docker tag app localhost:5000/multi:b");
    let o = lab.run("docker push --all-tags localhost:5000/multi");
    snap(&lab, "push_all_tags", o.both());
    lab.ok("docker rmi localhost:5000/multi:a localhost:5000/multi:b");
    let o = lab.run("docker pull -a localhost:5000/multi");
    snap(&lab, "pull_all_tags", o.both());
    let digest = lab
        .run("docker image inspect -f '{{index .RepoDigests 0}}' localhost:5000/multi:a")
        .stdout
        .trim()
        .to_string();
    lab.ok("docker rmi localhost:5000/multi:a localhost:5000/multi:b");
    let o = lab.run(&format!("docker pull {digest}"));
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker images --digests --format '{{.Repository}} {{.Tag}} {{.Digest}}'");
    snap(&lab, "pulled_by_digest", o.both());
}

#[test]
fn curl_reaches_the_registry_api_and_deletes_by_digest() {
    let mut lab = Lab::new();
    app_image(&mut lab);
    lab.ok("docker run -d -p 5000:5000 -e REGISTRY_STORAGE_DELETE_ENABLED=true --name registry registry:2");
    lab.ok("docker tag app localhost:5000/app:1.0");
    lab.ok("docker push localhost:5000/app:1.0");
    let o = lab.ok("curl -s http://localhost:5000/v2/_catalog");
    assert_eq!(o.stdout, "{\"repositories\":[\"app\"]}\n");
    let o = lab.ok("curl -s http://localhost:5000/v2/app/tags/list");
    assert_eq!(o.stdout, "{\"name\":\"app\",\"tags\":[\"1.0\"]}\n");
    let o = lab.ok("curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://localhost:5000/v2/app/manifests/1.0");
    let digest = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Docker-Content-Digest: "))
        .expect("digest header")
        .trim()
        .to_string();
    assert!(digest.starts_with("sha256:"), "{}", o.stdout);
    let o = lab.run(&format!(
        "curl -s -X DELETE http://localhost:5000/v2/app/manifests/{digest}"
    ));
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker pull localhost:5000/app:1.0");
    assert_eq!(o.code, 1, "deleted: {}", o.both());
}
