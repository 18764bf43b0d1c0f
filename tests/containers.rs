//! Containers: `docker run` and the container verbs, end to end through the
//! REPL's session, with docker CLI/Engine 28 texts pinned in snapshots.

mod common;
use common::Lab;

fn snap(lab: &Lab, name: &str, text: String) {
    let name = format!("containers_{name}");
    lab.settings().bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn run_echo_prints_output_and_pulls_first() {
    let mut lab = Lab::new();
    let o = lab.run("docker run alpine echo hello world");
    snap(&lab, "run_echo", o.both());
}

#[test]
fn run_exit_status_is_the_process_status() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    assert_eq!(lab.run("docker run alpine false").code, 1);
    assert_eq!(lab.run("docker run --rm alpine true").code, 0);
    let o = lab.run("docker ps -a");
    snap(&lab, "ps_after_false_and_rm", o.both());
}

#[test]
fn run_failures_use_docker_words_and_codes() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    let o = lab.run("docker run alpine foo");
    assert_eq!(o.code, 127);
    snap(&lab, "run_not_found", o.both());
    let o = lab.run("docker run alpine /app");
    assert_eq!(o.code, 127);
    snap(&lab, "run_no_such_file", o.both());
    let o = lab.run("docker run -u appuser alpine true");
    assert_eq!(o.code, 125);
    snap(&lab, "run_no_user", o.both());
    let o = lab.run("docker run nosuchimage");
    assert_eq!(o.code, 125);
    snap(&lab, "run_unknown_image", o.both());
    let o = lab.run("docker run");
    assert_eq!(o.code, 125);
    snap(&lab, "run_no_args", o.both());
    let o = lab.run("docker ps -a");
    snap(&lab, "ps_created_after_failures", o.both());
}

#[test]
fn nginx_serves_published_port_and_logs() {
    let mut lab = Lab::new();
    lab.ok("docker pull nginx:alpine");
    let o = lab.run("docker run -d --name web -p 8080:80 nginx:alpine");
    snap(&lab, "run_detached_nginx", o.both());
    let o = lab.run("docker ps");
    snap(&lab, "ps_running_nginx", o.both());
    let o = lab.run("curl -s http://localhost:8080/");
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("<h1>Welcome to nginx!</h1>"));
    let o = lab.run("curl -i localhost:8080/missing");
    snap(&lab, "curl_404", o.both());
    let o = lab.run("curl localhost:9999/");
    assert_eq!(o.code, 7);
    snap(&lab, "curl_refused", o.both());
    let o = lab.run("docker logs web");
    snap(&lab, "logs_nginx", o.both());
    let o = lab.run("docker logs --tail 1 web");
    snap(&lab, "logs_tail", o.both());
    let o = lab.run("docker top web");
    snap(&lab, "top_nginx", o.both());
    let o = lab.run("docker inspect --format '{{.State.Status}} {{.HostConfig.PortBindings}}' web");
    snap(&lab, "inspect_format", o.both());
    let o = lab.run("docker rm web");
    assert_eq!(o.code, 1);
    snap(&lab, "rm_running", o.both());
    let o = lab.run("docker rmi nginx:alpine");
    assert_eq!(o.code, 1);
    snap(&lab, "rmi_in_use", o.both());
    let o = lab.run("docker run -d -p 8080:80 nginx:alpine");
    assert_eq!(o.code, 125);
    assert!(
        o.stderr.contains("port is already allocated"),
        "{}",
        o.stderr
    );
    let o = lab.run("docker stop web");
    snap(&lab, "stop", o.both());
    let o = lab.run("curl localhost:8080/");
    assert_eq!(o.code, 7);
    let o = lab.run("docker exec web ls");
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("is not running"));
    let o = lab.run("docker start web");
    snap(&lab, "start", o.both());
    assert_eq!(lab.run("curl -s localhost:8080/").code, 0);
    lab.ok("docker rm -f web");
    let o = lab.run("docker ps -a -q");
    assert!(o.stdout.lines().count() == 1, "{}", o.stdout);
}

#[test]
fn foreground_server_reports_it_keeps_running() {
    let mut lab = Lab::new();
    lab.ok("docker pull nginx:alpine");
    let o = lab.run("docker run --name fg -p 8081:80 nginx:alpine");
    assert_eq!(o.code, 0);
    snap(&lab, "run_foreground_server", o.both());
    assert_eq!(lab.run("curl -s localhost:8081/").code, 0);
}

#[test]
fn name_conflict_and_no_such_container() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    lab.ok("docker run --name one alpine true");
    let o = lab.run("docker run --name one alpine true");
    assert_eq!(o.code, 125);
    snap(&lab, "name_conflict", o.both());
    let o = lab.run("docker logs nope");
    assert_eq!(o.code, 1);
    snap(&lab, "logs_no_such", o.both());
    let o = lab.run("docker rm one nope");
    snap(&lab, "rm_mixed", o.both());
}

#[test]
fn interactive_shell_takes_following_lines_until_exit() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    lab.ok("docker run -it --name box alpine");
    let o = lab.run("echo inside");
    assert_eq!(o.stdout, "inside\n");
    let o = lab.run("exit");
    assert_eq!(o.stdout, "exit\n");
    let o = lab.run("docker ps -a --format '{{.Names}} {{.Status}}'");
    assert_eq!(o.stdout, "box Exited (0) Less than a second ago\n");
}

#[test]
fn container_management_command_aliases() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    lab.ok("docker container run --name c1 alpine echo hi");
    let o = lab.run("docker container ls -a --format '{{.Names}}\t{{.Command}}'");
    assert_eq!(o.stdout, "c1\t\"echo hi\"\n");
    let o = lab.run("docker container logs c1");
    assert_eq!(o.stdout, "hi\n");
    let o = lab.run("docker container prune -f");
    snap(&lab, "container_prune", o.both());
}

#[test]
fn containers_survive_a_new_session() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    lab.ok("docker run --name keep alpine echo kept");
    let o = lab.bin(
        &["docker", "ps", "-a", "--format", "{{.Names}}"],
        &lab.work(),
    );
    assert_eq!(o.stdout, "keep\n");
}

#[test]
fn named_volumes_are_listed_and_kept_while_used() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    lab.ok("docker volume create data");
    lab.ok("docker run --name v1 -v data:/data alpine true");
    let o = lab.run("docker volume ls");
    snap(&lab, "volume_ls", o.both());
    let o = lab.run("docker volume rm data");
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("volume is in use"), "{}", o.stderr);
    lab.ok("docker rm v1");
    let o = lab.run("docker volume rm data nope");
    snap(&lab, "volume_rm", o.both());
}

#[test]
fn exec_runs_in_a_running_container() {
    let mut lab = Lab::new();
    lab.ok("docker pull nginx:alpine");
    lab.ok("docker run -d --name web nginx:alpine");
    let o = lab.run("docker exec web echo from inside");
    assert_eq!((o.code, o.stdout.as_str()), (0, "from inside\n"));
    let o = lab.run("docker exec web nosuchprog");
    assert_eq!(o.code, 127);
    snap(&lab, "exec_not_found", o.both());
    let o = lab.run("docker exec nope true");
    assert_eq!(o.code, 1);
}

#[test]
fn python_http_server_serves_its_folder() {
    let mut lab = Lab::new();
    lab.ok("docker pull python:3.12-alpine");
    lab.ok("docker run -d --name py -p 8000:8000 python:3.12-alpine python3 -m http.server");
    let o = lab.run("curl -s localhost:8000/nope");
    snap(&lab, "python_404", o.both());
    let o = lab.run("docker logs py");
    snap(&lab, "python_logs", o.both());
}

#[test]
fn publish_all_picks_ephemeral_ports() {
    let mut lab = Lab::new();
    lab.ok("docker pull nginx:alpine");
    lab.ok("docker run -d -P --name pa nginx:alpine");
    let o = lab.run("docker ps --format '{{.Ports}}'");
    assert_eq!(o.stdout, "0.0.0.0:32768->80/tcp, [::]:32768->80/tcp\n");
    assert_eq!(lab.run("curl -s localhost:32768/").code, 0);
}

#[test]
fn diff_lists_what_the_container_changed() {
    let mut lab = Lab::new();
    lab.ok("docker pull nginx:alpine");
    lab.ok("docker run -d --name web -w /srv/app nginx:alpine");
    // The entrypoint enabled IPv6 in default.conf; -w created /srv/app.
    let o = lab.run("docker diff web");
    snap(&lab, "diff_nginx", o.both());
    let o = lab.run("docker container diff nope");
    assert_eq!(o.code, 1);
}

#[test]
fn transcript_lines_feed_a_container_shell_until_exit() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    lab.write(
        "t.txt",
        "docker run -it --name box alpine sh\necho inside\nexit\ndocker ps -a --format '{{.Names}} {{.State}}'\n",
    );
    let o = lab.run("run t.txt");
    snap(&lab, "transcript_shell", o.both());
}

#[test]
fn start_of_a_container_that_cannot_start_and_restart() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    lab.ok("docker pull nginx:alpine");
    lab.run("docker run --name bad alpine foo");
    let o = lab.run("docker start bad");
    assert_eq!(o.code, 1);
    snap(&lab, "start_fails", o.both());
    lab.ok("docker run -d --name web nginx:alpine");
    let o = lab.run("docker restart web");
    assert_eq!(o.stdout, "web\n");
    let o = lab.run("docker ps --format '{{.Names}} {{.State}}'");
    assert_eq!(o.stdout, "web running\n");
}

#[test]
fn env_flags_and_ps_filters() {
    let mut lab = Lab::new();
    lab.ok("docker pull alpine");
    lab.write("app.env", "# comment\nMODE=prod\n\nFOO=from-file\n");
    lab.ok(
        "docker run --name ee --env-file app.env -e FOO=bar -e MISSING_FROM_HOST_XYZ alpine true",
    );
    let o = lab.run("docker inspect --format '{{json .Config.Env}}' ee");
    assert_eq!(
        o.stdout,
        "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"MODE=prod\",\"FOO=bar\"]\n"
    );
    lab.run("docker run --name ff alpine false");
    let o = lab.run("docker ps -a -f exited=1 --format '{{.Names}}'");
    assert_eq!(o.stdout, "ff\n");
    let o = lab.run("docker ps -a -f name=ee -f status=exited --format '{{.Names}}'");
    assert_eq!(o.stdout, "ee\n");
    let o = lab.run("docker ps -f bogus=1");
    assert_eq!(o.code, 1);
    snap(&lab, "ps_bad_filter", o.both());
    let o = lab.run("docker ps -a --no-trunc -q");
    assert_eq!(o.stdout.lines().count(), 2);
    assert!(o.stdout.lines().all(|l| l.len() == 64));
    let o = lab.run("docker run --env-file nope.env alpine true");
    assert_eq!(o.code, 125);
    snap(&lab, "run_env_file_missing", o.both());
}
