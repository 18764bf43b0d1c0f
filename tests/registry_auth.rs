//! A `registry:2` protected with basic auth, end to end through the REPL's
//! session: `htpasswd` from the `httpd:2` image (bcrypt records that
//! verify), bind mounts of workspace folders (`-v "$(pwd)"/auth:/auth`,
//! `--mount`, and their errors), the registry refusing anonymous pushes and
//! wrong passwords as docker reports them, `curl` getting the 401 challenge
//! and a 200 with `-u`, and `registry garbage-collect` in the container.

mod common;
use common::Lab;

fn snap(lab: &Lab, name: &str, text: String) {
    let name = format!("registry_auth_{name}");
    lab.settings().bind(|| insta::assert_snapshot!(name, text));
}

const AUTH_REGISTRY: &str = "docker run -d -p 5000:5000 --name registry -v \"$(pwd)\"/auth:/auth -e REGISTRY_AUTH=htpasswd -e \"REGISTRY_AUTH_HTPASSWD_REALM=Registry Realm\" -e REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd registry:2";

/// The classic lesson's htpasswd file, written into `auth/`.
fn htpasswd_file(lab: &mut Lab) {
    lab.ok("mkdir auth");
    lab.ok(
        "docker run --rm --entrypoint htpasswd httpd:2 -Bbn testuser testpassword > auth/htpasswd",
    );
}

#[test]
fn htpasswd_writes_bcrypt_records_that_verify() {
    let mut lab = Lab::new();
    lab.ok("docker pull -q httpd:2");
    let o = lab.ok("docker run --rm --entrypoint htpasswd httpd:2 -Bbn testuser testpassword");
    let line = o
        .stdout
        .strip_suffix("\n\n")
        .expect("a record and a blank line");
    let (user, hash) = line.split_once(':').unwrap();
    assert_eq!(user, "testuser");
    assert!(hash.starts_with("$2y$05$") && hash.len() == 60, "{hash}");
    assert!(bcrypt::verify("testpassword", hash).unwrap());
    assert!(!bcrypt::verify("other", hash).unwrap());
    // -C sets the cost; without -B the record is Apache's MD5.
    let o = lab.ok("docker run --rm --entrypoint htpasswd httpd:2 -nbBC 7 u p");
    assert!(o.stdout.starts_with("u:$2y$07$"), "{}", o.stdout);
    let o = lab.ok("docker run --rm --entrypoint htpasswd httpd:2 -nb u p");
    assert!(o.stdout.starts_with("u:$apr1$"), "{}", o.stdout);
    // The file forms, through a bind mount: -c creates, -b adds or updates,
    // -v checks, -D deletes; the file lands in the workspace.
    let mut text = String::new();
    for line in [
        "docker run --rm -v ./auth:/auth --entrypoint htpasswd httpd:2 -Bbc /auth/htpasswd alice one",
        "docker run --rm -v ./auth:/auth --entrypoint htpasswd httpd:2 -Bb /auth/htpasswd bob two",
        "docker run --rm -v ./auth:/auth --entrypoint htpasswd httpd:2 -Bb /auth/htpasswd alice three",
        "docker run --rm -v ./auth:/auth --entrypoint htpasswd httpd:2 -vb /auth/htpasswd alice three",
        "docker run --rm -v ./auth:/auth --entrypoint htpasswd httpd:2 -vb /auth/htpasswd alice one",
        "docker run --rm -v ./auth:/auth --entrypoint htpasswd httpd:2 -D /auth/htpasswd bob",
        "docker run --rm -v ./auth:/auth --entrypoint htpasswd httpd:2 -Bb /auth/missing carol x",
        "docker run --rm --entrypoint htpasswd httpd:2 -cn x",
        "docker run --rm --entrypoint htpasswd httpd:2 -Bbn",
    ] {
        let o = lab.run(line);
        text += &format!("$ {line}\n{}\n", o.both());
    }
    snap(&lab, "htpasswd_file_forms", text);
    let file = std::fs::read_to_string(lab.work().join("auth/htpasswd")).unwrap();
    let users: Vec<&str> = file.lines().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(users, ["alice"]);
    let hash = file.lines().next().unwrap().split_once(':').unwrap().1;
    assert!(bcrypt::verify("three", hash).unwrap());
}

#[test]
fn an_auth_registry_refuses_anonymous_pushes_and_wrong_passwords() {
    let mut lab = Lab::new();
    htpasswd_file(&mut lab);
    lab.ok(AUTH_REGISTRY);
    lab.ok("docker pull -q alpine:3.20");
    lab.ok("docker tag alpine:3.20 localhost:5000/myapp:1.0");
    let mut text = String::new();
    for line in [
        "docker push localhost:5000/myapp:1.0",
        "curl -i localhost:5000/v2/",
        "curl -s localhost:5000/v2/_catalog",
        "curl -i -u testuser:wrong localhost:5000/v2/",
        "curl -i -u testuser:testpassword localhost:5000/v2/",
        "docker login localhost:5000 -u testuser -p wrong",
        "docker login localhost:5000 -u testuser -p testpassword",
        "docker push localhost:5000/myapp:1.0",
        "curl -u testuser:testpassword localhost:5000/v2/_catalog",
        "docker logout localhost:5000",
        "docker pull localhost:5000/myapp:1.0",
    ] {
        let o = lab.run(line);
        text += &format!("$ {line}\n{}\n", o.both());
    }
    snap(&lab, "flow", text);
    // Stored credentials the registry no longer takes: its challenge.
    lab.write("auth/htpasswd", "");
    lab.ok("docker run --rm -v ./auth:/auth --entrypoint htpasswd httpd:2 -Bbc /auth/htpasswd other pw");
    let o = lab.run("docker login localhost:5000 -u testuser -p testpassword");
    assert_eq!(o.code, 1, "{}", o.both());
}

#[test]
fn a_missing_htpasswd_file_is_provisioned_with_a_default_user() {
    let mut lab = Lab::new();
    lab.ok(AUTH_REGISTRY);
    // The registry created the file through the bind mount, with the user
    // `docker` and the password it logged.
    let file = std::fs::read_to_string(lab.work().join("auth/htpasswd")).unwrap();
    assert!(file.starts_with("docker:$2a$10$"), "{file}");
    let logs = lab.ok("docker logs registry").both();
    let pw = logs
        .split("password=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the password is logged")
        .to_string();
    assert!(bcrypt::verify(&pw, &file["docker:".len()..]).unwrap());
    snap(&lab, "provisioned_logs", logs);
    let o = lab.ok(&format!("docker login localhost:5000 -u docker -p {pw}"));
    assert!(o.stdout.contains("Login Succeeded"));
    // Without a realm the registry does not start.
    let o = lab.run("docker run -d -p 5001:5000 --name bad -e REGISTRY_AUTH=htpasswd registry:2");
    assert_eq!(o.code, 0, "{}", o.both());
    let o = lab.run("docker ps -a --filter name=bad --format '{{.Status}}'");
    assert!(o.stdout.starts_with("Exited (2)"), "{}", o.both());
    let o = lab.run("docker logs bad");
    assert!(
        o.stderr
            .contains("\"realm\" must be set for htpasswd access controller"),
        "{}",
        o.both()
    );
}

#[test]
fn bind_mount_forms_and_errors() {
    let mut lab = Lab::new();
    lab.write("site/index.txt", "from the host\n");
    lab.ok("docker pull -q alpine:3.20");
    let mut text = String::new();
    for line in [
        "docker run --rm -v \"$(pwd)\"/site:/site alpine:3.20 cat /site/index.txt",
        "docker run --rm -v $PWD/site:/site:ro alpine:3.20 sh -c 'echo x > /site/new.txt'",
        "docker run --rm --mount type=bind,source=./site,target=/site,readonly alpine:3.20 ls /site",
        "docker run --rm --mount type=bind,source=./nope,target=/x alpine:3.20 true",
        "docker run --rm --mount type=bind,source=./site alpine:3.20 true",
        "docker run --rm --mount type=bind,src=./site,dst=/x,foo=bar alpine:3.20 true",
        "docker run --rm -v ./site:/site:xyz alpine:3.20 true",
        "docker run --rm --mount type=volume,source=data,target=/data alpine:3.20 sh -c 'echo kept > /data/f'",
        "docker run --rm -v data:/data alpine:3.20 cat /data/f",
    ] {
        let o = lab.run(line);
        text += &format!("$ {line}\n{}\n", o.both());
    }
    snap(&lab, "bind_mounts", text);
    // A read-write bind mount writes back; -v creates a missing folder.
    lab.ok("docker run --rm -v ./made:/out alpine:3.20 sh -c 'echo hi > /out/f.txt'");
    assert_eq!(
        std::fs::read_to_string(lab.work().join("made/f.txt")).unwrap(),
        "hi\n"
    );
    assert!(!lab.work().join("site/new.txt").exists(), "read-only");
}

#[test]
fn garbage_collect_marks_and_sweeps_the_registry_storage() {
    let mut lab = Lab::new();
    lab.ok("docker run -d -p 5000:5000 --name registry registry:2");
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo one > /v.txt\n");
    lab.ok("docker build -q -t localhost:5000/app:1 .");
    lab.ok("docker push localhost:5000/app:1");
    // The tag moves to a new image: the first manifest is untagged.
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo two > /v.txt\n");
    lab.ok("docker build -q -t localhost:5000/app:1 .");
    lab.ok("docker push localhost:5000/app:1");
    let mut text = String::new();
    for line in [
        "docker exec registry bin/registry garbage-collect --dry-run /etc/docker/registry/config.yml",
        "docker exec registry registry garbage-collect -m /etc/docker/registry/config.yml",
        "docker exec registry registry garbage-collect /etc/docker/registry/config.yml",
        "docker exec registry registry garbage-collect",
    ] {
        let o = lab.run(line);
        text += &format!("$ {line}\n{}\n", o.both());
    }
    snap(&lab, "garbage_collect", text);
    lab.ok("docker rmi localhost:5000/app:1");
    lab.ok("docker pull localhost:5000/app:1");
}
