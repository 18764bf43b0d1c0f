//! Unit tests of the container store, the services and name rules.

use super::services::{self, Service};
use super::*;
use crate::userland::testing::image_fs;

fn arg(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn names_follow_moby_pattern() {
    assert!(valid_name("web"));
    assert!(valid_name("my-app_1.0"));
    assert!(!valid_name("a"));
    assert!(!valid_name("-web"));
    assert!(!valid_name("we b"));
}

#[test]
fn allocation_is_deterministic_and_refuses_used_names() {
    let d = tempfile::tempdir().unwrap();
    let st = Containers::open(d.path());
    let (id, name) = st.allocate("sha256:00", None).unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let (id2, name2) = Containers::open(d2.path())
        .allocate("sha256:00", None)
        .unwrap();
    assert_eq!((id.clone(), name.clone()), (id2, name2));
    assert_eq!(id.len(), 64);
    assert!(name.contains('_'));
    let (id3, _) = st.allocate("sha256:00", Some("web")).unwrap();
    assert_ne!(id, id3);
    assert!(matches!(
        st.allocate("sha256:00", Some("bad name")),
        Err(ContainerError::BadName(_))
    ));
}

#[test]
fn nginx_detected_behind_entrypoint_with_config_ports_and_root() {
    let fs = image_fs("nginx:alpine");
    let env = arg(&[
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "NGINX_VERSION=1.27.3",
    ]);
    let svc = services::detect(
        &arg(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]),
        &fs,
        &env,
        "/",
    );
    assert_eq!(
        svc,
        Some(Service::Nginx {
            version: "1.27.3".into()
        })
    );
    assert_eq!(
        services::detect(&arg(&["nginx", "-v"]), &fs, &env, "/"),
        None
    );
    let servers = services::nginx_servers(&fs);
    assert_eq!(servers[0].ports, vec![80]);
    assert_eq!(servers[0].root, "/usr/share/nginx/html");
    let r = services::request(svc.as_ref().unwrap(), &fs, 80, "GET", "/", 0).unwrap();
    assert_eq!(r.status, 200);
    assert!(services::request(svc.as_ref().unwrap(), &fs, 81, "GET", "/", 0).is_none());
    // nginx 1.27 error page (ngx_http_special_response.c), CRLF line ends.
    let r = services::request(svc.as_ref().unwrap(), &fs, 80, "GET", "/x", 0).unwrap();
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.3</center>\r\n</body>\r\n</html>\r\n"
    );
}

#[test]
fn python_http_server_detected_with_port_and_directory() {
    let fs = image_fs("python:3.12-alpine");
    let env = arg(&["PATH=/usr/local/bin:/usr/bin:/bin"]);
    let svc = services::detect(
        &arg(&[
            "python3",
            "-m",
            "http.server",
            "9000",
            "--directory",
            "/srv",
        ]),
        &fs,
        &env,
        "/app",
    );
    assert_eq!(
        svc,
        Some(Service::Python {
            port: 9000,
            dir: "/srv".into(),
            unbuffered: false,
            version: "3.12.8".into()
        })
    );
    assert_eq!(
        services::detect(&arg(&["python3", "-c", "print(1)"]), &fs, &env, "/"),
        None
    );
}

#[test]
fn registry_detected_from_its_entrypoint() {
    let fs = image_fs("alpine:3.20");
    let svc = services::detect(
        &arg(&["/entrypoint.sh", "/etc/docker/registry/config.yml"]),
        &fs,
        &[],
        "/",
    );
    assert_eq!(svc, Some(Service::Registry));
    let r = services::request(&Service::Registry, &fs, 5000, "GET", "/v2/", 0).unwrap();
    assert_eq!((r.status, r.body), (200, b"{}".to_vec()));
}

#[test]
fn nginx_conf_parsing_takes_listen_root_and_index() {
    let mut fs = image_fs("nginx:alpine");
    fs.write(
        "/etc/nginx/conf.d/default.conf",
        crate::layer::Content::bytes(&b"server {\n  listen 8080;\n  # root /nope;\n  root /srv/www;\n  index home.html;\n}\n"[..]),
        0o644,
        crate::userland::fs::Cred::ROOT,
    )
    .unwrap();
    let s = services::nginx_servers(&fs);
    assert_eq!(s[0].ports, vec![8080]);
    assert_eq!(s[0].root, "/srv/www");
    assert_eq!(s[0].index, vec!["home.html".to_string()]);
}

#[test]
fn find_uses_id_then_name_then_unique_prefix() {
    let mk = |id: &str, name: &str| Container {
        id: id.into(),
        name: name.into(),
        image: "alpine".into(),
        image_id: "sha256:00".into(),
        created: 0,
        path: "true".into(),
        args: vec![],
        config: Config::default(),
        host: HostConfig::default(),
        state: State {
            status: Status::Created,
            exit_code: 0,
            started_at: 0,
            finished_at: 0,
            pid: 0,
            error: String::new(),
        },
        platform: "linux/amd64".into(),
        service: None,
        restart_count: 0,
    };
    let list = vec![mk("abc1", "web"), mk("abd2", "db")];
    assert_eq!(find_in(&list, "web").unwrap().id, "abc1");
    assert_eq!(find_in(&list, "/db").unwrap().id, "abd2");
    assert_eq!(find_in(&list, "abc").unwrap().id, "abc1");
    assert!(find_in(&list, "ab").is_none());
    assert!(find_in(&list, "").is_none());
}

#[test]
fn volumes_keep_files_between_containers_and_leave_the_rw_layer() {
    use super::volumes::{Volumes, under_mount};
    let d = tempfile::tempdir().unwrap();
    let vols = Volumes::open(d.path());
    let mounts = vec![Mount::volume("data", "/data")];
    let mut fs = image_fs("alpine:3.20");
    vols.mount(&mut fs, &mounts).unwrap();
    assert!(fs.is_dir("/data"));
    fs.write(
        "/data/note.txt",
        crate::layer::Content::bytes(&b"kept\n"[..]),
        0o644,
        crate::userland::fs::Cred::ROOT,
    )
    .unwrap();
    vols.unmount(&fs, &mounts).unwrap();
    assert!(under_mount("data/note.txt", &mounts));
    assert!(!under_mount("database", &mounts));
    let mut other = image_fs("alpine:3.20");
    vols.mount(&mut other, &mounts).unwrap();
    assert_eq!(other.read_string("/data/note.txt").unwrap(), "kept\n");
    assert_eq!(vols.list().unwrap(), vec!["data".to_string()]);
    vols.remove("data").unwrap();
    assert!(matches!(
        vols.remove("data"),
        Err(ContainerError::NoSuchVolume(_))
    ));
}
