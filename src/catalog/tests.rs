//! Tests for the base-image catalog: every description parses and builds,
//! sizes are close to the real images', output is deterministic, and the
//! package databases read back with the versions real images ship.

use super::*;

fn amd64() -> Platform {
    Platform::amd64()
}

fn arm64() -> Platform {
    Platform::arm64()
}

fn img(r: &str, t: &str) -> &'static BaseImage {
    let (repo, _) = split_ref(r);
    catalog()
        .find(&repo, t)
        .unwrap_or_else(|| panic!("{r}:{t} not in catalog"))
}

fn file_text(layers: &[Vec<Entry>], path: &str) -> Option<String> {
    // the topmost layer that has the path wins
    layers.iter().rev().find_map(|l| {
        l.iter()
            .find(|e| e.path == path)
            .and_then(|e| match &e.kind {
                Kind::File(c) => Some(String::from_utf8_lossy(&c.to_vec().unwrap()).into_owned()),
                _ => None,
            })
    })
}

fn find_entry<'a>(layers: &'a [Vec<Entry>], path: &str) -> Option<&'a Entry> {
    layers
        .iter()
        .rev()
        .find_map(|l| l.iter().find(|e| e.path == path))
}

/// `name → version` of an apk installed database.
fn apk_versions(db: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for rec in db.split("\n\n").filter(|r| !r.trim().is_empty()) {
        let get = |k: &str| {
            rec.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}:")))
                .unwrap_or("")
                .to_string()
        };
        out.insert(get("P"), (get("V"), get("A")));
    }
    out
}

/// `name → version` of a dpkg status file.
fn dpkg_versions(status: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for para in status.split("\n\n").filter(|r| !r.trim().is_empty()) {
        let get = |k: &str| {
            para.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}: ")))
                .unwrap_or("")
                .to_string()
        };
        out.insert(get("Package"), (get("Version"), get("Architecture")));
    }
    out
}

#[test]
fn every_image_parses_and_builds() {
    let c = catalog();
    assert!(c.images().len() >= 5);
    for i in c.images() {
        for p in i.platforms() {
            let cfg = i.config(&p);
            assert_eq!(cfg["architecture"], json!(p.architecture));
            let layers = i.layers(&p);
            for l in &layers {
                assert_eq!(
                    l,
                    &layer::normalize(l.clone()),
                    "{} not normalized",
                    i.name()
                );
                let paths: BTreeSet<&str> = l.iter().map(|e| e.path.as_str()).collect();
                for e in l {
                    if let Some((dir, _)) = e.path.rsplit_once('/') {
                        assert!(
                            paths.contains(dir),
                            "{}: {} has no parent in its layer",
                            i.name(),
                            e.path
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn config_has_spec_field_order_and_empty_diff_ids() {
    let cfg = img("alpine", "3.20").config(&arm64());
    let keys: Vec<&str> = cfg
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "architecture",
            "config",
            "created",
            "history",
            "os",
            "rootfs",
            "variant"
        ]
    );
    assert_eq!(cfg["rootfs"], json!({"type": "layers", "diff_ids": []}));
    assert_eq!(cfg["variant"], json!("v8"));
    let cfg = img("alpine", "3.20").config(&amd64());
    assert!(cfg.get("variant").is_none());
    assert_eq!(cfg["config"]["Cmd"], json!(["/bin/sh"]));
}

#[test]
fn non_empty_history_matches_layer_count() {
    for i in catalog().images() {
        for p in i.platforms() {
            let cfg = i.config(&p);
            let non_empty = cfg["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| h.get("empty_layer") != Some(&json!(true)))
                .count();
            assert_eq!(non_empty, i.layers(&p).len(), "{} {p}", i.name());
        }
    }
}

#[test]
fn sizes_are_within_20_percent_of_the_real_images() {
    let mut report = Vec::new();
    for i in catalog().images().iter().filter(|i| !i.reserved) {
        let size: u64 = i.layers(&amd64()).iter().map(|l| layer::tar_size(l)).sum();
        let real = i.real_size_bytes as f64;
        let ratio = size as f64 / real;
        report.push(format!(
            "{:40} {:>12} {:>12} {:.3}",
            i.name(),
            size,
            i.real_size_bytes,
            ratio
        ));
        assert!(
            (0.8..=1.2).contains(&ratio),
            "{}: {size} vs real {}",
            i.name(),
            i.real_size_bytes
        );
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn layers_are_deterministic() {
    for i in catalog().images() {
        for p in i.platforms() {
            assert_eq!(i.layers(&p), i.layers(&p), "{}", i.name());
            assert_eq!(i.config(&p), i.config(&p));
        }
    }
    let a = &img("alpine", "3.20").layers(&amd64())[0];
    let (x, _) = layer::write_tar(a, std::io::sink()).unwrap();
    let (y, _) = layer::write_tar(a, std::io::sink()).unwrap();
    assert_eq!(x, y);
    assert_eq!(x.size, layer::tar_size(a));
}

#[test]
fn derived_images_share_their_parents_layers() {
    for i in catalog().images() {
        let Some(b) = &i.base else { continue };
        let (r, t) = split_ref(b);
        let base = catalog().find(&r, &t).unwrap();
        for p in i.platforms() {
            let mine = i.layers(&p);
            let theirs = base.layers(&p);
            assert!(mine.len() > theirs.len() || theirs.is_empty());
            assert_eq!(
                &mine[..theirs.len()],
                &theirs[..],
                "{} on {}",
                i.name(),
                base.name()
            );
            let h = i.config(&p)["history"].as_array().unwrap().len();
            assert!(h > base.config(&p)["history"].as_array().unwrap().len());
        }
    }
    let n = img("nginx", "alpine").layers(&amd64());
    assert_eq!(n[0], img("alpine", "3.20").layers(&amd64())[0]);
}

#[test]
fn tags_resolve_in_full_form() {
    let a = img("alpine", "latest");
    for t in ["3.20", "3.20.3", "3"] {
        assert_eq!(
            catalog().find("docker.io/library/alpine", t).unwrap().tags,
            a.tags
        );
    }
    for t in ["alpine", "1.27-alpine", "1.27.3-alpine"] {
        assert!(
            catalog().find("docker.io/library/nginx", t).is_some(),
            "nginx:{t}"
        );
    }
    assert!(
        catalog().find("alpine", "3.20").is_none(),
        "short names are not looked up"
    );
    assert!(catalog().find("docker.io/library/alpine", "2.0").is_none());
    assert!(catalog().scratch().reserved);
    assert!(catalog().scratch().layers(&amd64()).is_empty());
}

#[test]
fn platform_display_and_parse() {
    assert_eq!(arm64().to_string(), "linux/arm64/v8");
    assert_eq!(amd64().to_string(), "linux/amd64");
    assert_eq!(Platform::parse("linux/arm64"), Some(arm64()));
    assert_eq!(Platform::parse("linux/arm64/v8"), Some(arm64()));
    assert_eq!(Platform::parse("linux"), None);
}

#[test]
fn arm64_differs_where_the_architecture_shows() {
    let a = img("alpine", "3.20");
    let x = a.layers(&amd64());
    let y = a.layers(&arm64());
    assert!(find_entry(&x, "lib/ld-musl-x86_64.so.1").is_some());
    assert!(find_entry(&y, "lib/ld-musl-aarch64.so.1").is_some());
    assert!(find_entry(&y, "lib/ld-musl-x86_64.so.1").is_none());
    assert_eq!(file_text(&x, "etc/apk/arch").unwrap(), "x86_64\n");
    assert_eq!(file_text(&y, "etc/apk/arch").unwrap(), "aarch64\n");
    let dbx = apk_versions(&file_text(&x, "lib/apk/db/installed").unwrap());
    let dby = apk_versions(&file_text(&y, "lib/apk/db/installed").unwrap());
    assert_eq!(dbx["musl"].1, "x86_64");
    assert_eq!(dby["musl"].1, "aarch64");
    // same paths and sizes elsewhere, different bytes for binaries
    let bx = find_entry(&x, "bin/busybox").unwrap();
    let by = find_entry(&y, "bin/busybox").unwrap();
    assert_ne!(bx.kind, by.kind);
    assert_eq!(a.config(&arm64())["architecture"], json!("arm64"));
}

#[test]
fn required_paths_are_present() {
    let want: &[(&str, &str, &[&str])] = &[
        (
            "alpine",
            "3.20",
            &[
                "bin/sh",
                "bin/busybox",
                "bin/ls",
                "etc/os-release",
                "etc/alpine-release",
                "etc/passwd",
                "etc/group",
                "etc/shadow",
                "lib/apk/db/installed",
                "tmp",
                "root",
                "home",
                "var/cache/apk",
                "etc/apk/repositories",
                "sbin/apk",
                "usr/bin/wget",
            ],
        ),
        (
            "nginx",
            "alpine",
            &[
                "usr/share/nginx/html/index.html",
                "usr/share/nginx/html/50x.html",
                "etc/nginx/nginx.conf",
                "etc/nginx/conf.d/default.conf",
                "docker-entrypoint.sh",
                "docker-entrypoint.d",
                "docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
                "usr/sbin/nginx",
                "var/log/nginx/access.log",
                "usr/bin/curl",
            ],
        ),
        (
            "busybox",
            "latest",
            &[
                "bin/sh",
                "bin/ls",
                "bin/busybox",
                "etc/passwd",
                "tmp",
                "root",
            ],
        ),
        ("hello-world", "latest", &["hello"]),
        (
            "debian",
            "bookworm-slim",
            &[
                "etc/os-release",
                "etc/debian_version",
                "etc/passwd",
                "etc/group",
                "etc/shadow",
                "var/lib/dpkg/status",
                "bin",
                "usr/bin/bash",
                "usr/bin/sh",
                "tmp",
                "root",
                "home",
            ],
        ),
        (
            "debian",
            "bookworm",
            &["etc/debian_version", "usr/share/doc", "usr/share/man"],
        ),
        (
            "ubuntu",
            "22.04",
            &[
                "etc/lsb-release",
                "etc/os-release",
                "etc/debian_version",
                "var/lib/dpkg/status",
            ],
        ),
        ("ubuntu", "jammy", &["usr/bin/bash"]),
        (
            "ubuntu",
            "24.04",
            &[
                "etc/lsb-release",
                "etc/os-release",
                "home/ubuntu",
                "var/lib/dpkg/status",
            ],
        ),
        (
            "eclipse-temurin",
            "21-jre",
            &[
                "opt/java/openjdk/bin/java",
                "opt/java/openjdk/release",
                "__cacert_entrypoint.sh",
                "usr/bin/curl",
            ],
        ),
        (
            "eclipse-temurin",
            "21-jdk",
            &["opt/java/openjdk/bin/javac", "opt/java/openjdk/bin/jshell"],
        ),
        (
            "maven",
            "3.9-eclipse-temurin-21",
            &[
                "usr/share/maven/bin/mvn",
                "usr/bin/mvn",
                "usr/local/bin/mvn-entrypoint.sh",
                "usr/share/maven/ref/settings-docker.xml",
                "opt/java/openjdk/bin/java",
                "usr/bin/git",
            ],
        ),
        (
            "python",
            "3.12-slim",
            &[
                "usr/local/bin/python3",
                "usr/local/bin/pip",
                "etc/ssl/certs/ca-certificates.crt",
            ],
        ),
        (
            "golang",
            "1.22",
            &[
                "usr/local/go/bin/go",
                "go/src",
                "usr/bin/git",
                "usr/bin/gcc",
            ],
        ),
        (
            "alpine",
            "3.19",
            &[
                "etc/os-release",
                "etc/alpine-release",
                "bin/sh",
                "lib/apk/db/installed",
            ],
        ),
        (
            "alpine",
            "3.18",
            &[
                "etc/os-release",
                "etc/alpine-release",
                "bin/sh",
                "lib/apk/db/installed",
            ],
        ),
        (
            "registry",
            "2",
            &[
                "bin/registry",
                "etc/docker/registry/config.yml",
                "entrypoint.sh",
                "bin/sh",
            ],
        ),
        (
            "node",
            "20-alpine",
            &[
                "usr/local/bin/node",
                "usr/local/bin/npm",
                "usr/local/bin/npx",
                "usr/local/bin/yarn",
                "usr/local/bin/docker-entrypoint.sh",
                "usr/local/lib/node_modules/npm/node_modules/cross-spawn/package.json",
                "home/node",
            ],
        ),
        (
            "golang",
            "1.22-alpine",
            &[
                "usr/local/go/bin/go",
                "usr/local/go/bin/gofmt",
                "go/src",
                "go/bin",
            ],
        ),
        (
            "python",
            "3.12-alpine",
            &[
                "usr/local/bin/python3",
                "usr/local/bin/python3.12",
                "usr/local/bin/python",
                "usr/local/bin/pip",
                "usr/local/lib/python3.12/site-packages/pip-24.3.1.dist-info/METADATA",
            ],
        ),
    ];
    for (r, t, paths) in want {
        let layers = img(r, t).layers(&amd64());
        for p in *paths {
            assert!(find_entry(&layers, p).is_some(), "{r}:{t} lacks /{p}");
        }
    }
    let a = img("alpine", "3.20").layers(&amd64());
    assert_eq!(find_entry(&a, "tmp").unwrap().mode, 0o1777);
    assert_eq!(find_entry(&a, "root").unwrap().mode, 0o700);
    assert_eq!(
        find_entry(&a, "bin/sh").unwrap().kind,
        Kind::Symlink("/bin/busybox".into())
    );
    let os = file_text(&a, "usr/lib/os-release").unwrap();
    assert!(os.contains("ID=alpine\n") && os.contains("VERSION_ID=3.20.3\n"));
    assert_eq!(
        find_entry(&a, "etc/os-release").unwrap().kind,
        Kind::Symlink("../usr/lib/os-release".into())
    );
    assert_eq!(file_text(&a, "etc/alpine-release").unwrap(), "3.20.3\n");
    let passwd = file_text(&a, "etc/passwd").unwrap();
    assert!(passwd.starts_with("root:x:0:0:root:/root:/bin/sh\n"));
    assert!(passwd.contains("\nnobody:x:65534:65534:"));

    let n = img("nginx", "alpine").layers(&amd64());
    let passwd = file_text(&n, "etc/passwd").unwrap();
    assert!(passwd.contains("\nnginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\n"));
    assert!(passwd.starts_with("root:x:0:0:"));
    assert!(
        file_text(&n, "usr/share/nginx/html/index.html")
            .unwrap()
            .contains("Welcome to nginx!")
    );
    assert_eq!(find_entry(&n, "docker-entrypoint.sh").unwrap().mode, 0o775);
    let shadow = find_entry(&n, "etc/shadow").unwrap();
    assert_eq!((shadow.mode, shadow.gid), (0o640, 42));

    let cfg = img("nginx", "alpine").config(&amd64());
    assert_eq!(
        cfg["config"]["Entrypoint"],
        json!(["/docker-entrypoint.sh"])
    );
    assert_eq!(cfg["config"]["Cmd"], json!(["nginx", "-g", "daemon off;"]));
    assert_eq!(cfg["config"]["ExposedPorts"], json!({"80/tcp": {}}));
    assert_eq!(cfg["config"]["StopSignal"], json!("SIGQUIT"));
    let env = cfg["config"]["Env"].as_array().unwrap();
    assert_eq!(
        env[0],
        json!("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    );
    assert!(env.contains(&json!("NGINX_VERSION=1.27.3")));

    let r = img("registry", "2").config(&amd64());
    assert_eq!(r["config"]["ExposedPorts"], json!({"5000/tcp": {}}));
    assert_eq!(r["config"]["Volumes"], json!({"/var/lib/registry": {}}));
    assert_eq!(r["config"]["Entrypoint"], json!(["/entrypoint.sh"]));
    assert_eq!(
        r["config"]["Cmd"],
        json!(["/etc/docker/registry/config.yml"])
    );
    let g = img("golang", "1.22-alpine");
    let gc = g.config(&amd64());
    assert_eq!(gc["config"]["WorkingDir"], json!("/go"));
    for e in ["GOLANG_VERSION=1.22.12", "GOTOOLCHAIN=local", "GOPATH=/go"] {
        assert!(
            gc["config"]["Env"].as_array().unwrap().contains(&json!(e)),
            "{e}"
        );
    }
    assert_eq!(find_entry(&g.layers(&amd64()), "go").unwrap().mode, 0o1777);
    let n = img("node", "20-alpine").layers(&amd64());
    assert!(
        file_text(&n, "etc/passwd")
            .unwrap()
            .contains("\nnode:x:1000:1000:")
    );
    assert_eq!(find_entry(&n, "home/node").unwrap().uid, 1000);
    let p = img("python", "3.12-alpine");
    assert_eq!(p.config(&amd64())["config"]["Cmd"], json!(["python3"]));
    let pl = p.layers(&amd64());
    assert_eq!(
        find_entry(&pl, "usr/local/bin/python3").unwrap().kind,
        Kind::Symlink("python3.12".into())
    );
    let d = img("debian", "bookworm-slim").layers(&amd64());
    assert_eq!(file_text(&d, "etc/debian_version").unwrap(), "12.8\n");
    let os = file_text(&d, "usr/lib/os-release").unwrap();
    assert!(
        os.contains("ID=debian\n")
            && os.contains("VERSION_ID=\"12\"\n")
            && os.contains("VERSION_CODENAME=bookworm\n")
    );
    assert!(
        file_text(&d, "etc/passwd")
            .unwrap()
            .ends_with("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    );
    let u = img("ubuntu", "22.04").layers(&amd64());
    let lsb = file_text(&u, "etc/lsb-release").unwrap();
    assert!(lsb.contains("DISTRIB_ID=Ubuntu\n") && lsb.contains("DISTRIB_RELEASE=22.04\n"));
    let pc = img("python", "3.12-slim").config(&amd64());
    for e in [
        "LANG=C.UTF-8",
        "PYTHON_VERSION=3.12.8",
        "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305",
    ] {
        assert!(
            pc["config"]["Env"].as_array().unwrap().contains(&json!(e)),
            "{e}"
        );
    }
    let j = img("eclipse-temurin", "21-jre");
    let jc = j.config(&amd64());
    assert_eq!(
        jc["config"]["Entrypoint"],
        json!(["/__cacert_entrypoint.sh"])
    );
    assert!(
        jc["config"].get("Cmd").is_none(),
        "ENTRYPOINT resets the inherited CMD"
    );
    assert!(
        jc["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&json!("JAVA_HOME=/opt/java/openjdk"))
    );
    let ja = j.layers(&arm64());
    assert!(
        file_text(&ja, "opt/java/openjdk/release")
            .unwrap()
            .contains("OS_ARCH=\"aarch64\"")
    );
    let jos = file_text(&ja, "usr/lib/os-release").unwrap();
    assert!(jos.contains("VERSION_ID=\"24.04\""));
    let m = img("maven", "3.9-eclipse-temurin-21").config(&amd64());
    assert_eq!(
        m["config"]["Entrypoint"],
        json!(["/usr/local/bin/mvn-entrypoint.sh"])
    );
    assert_eq!(m["config"]["Cmd"], json!(["mvn"]));
    assert!(
        m["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&json!("MAVEN_HOME=/usr/share/maven"))
    );
    let h = img("hello-world", "latest");
    assert_eq!(h.config(&amd64())["config"]["Cmd"], json!(["/hello"]));
    assert_eq!(h.layers(&amd64()).len(), 1);
}

#[test]
fn busybox_applets_are_hard_links_before_which_the_binary_comes() {
    let l = &img("busybox", "latest").layers(&amd64())[0];
    let pos = |p: &str| l.iter().position(|e| e.path == p).unwrap();
    let bin = pos("bin/[");
    assert!(matches!(l[bin].kind, Kind::File(_)));
    for e in l.iter().filter(|e| matches!(e.kind, Kind::Hardlink(_))) {
        assert!(pos(&e.path) > bin);
    }
    assert_eq!(l[pos("bin/sh")].kind, Kind::Hardlink("bin/[".into()));
}

/// Image, tag, and (package, version) pairs its database must list.
type Expect = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[test]
fn apk_databases_carry_the_real_versions() {
    let cases: &[Expect] = &[
        (
            "alpine",
            "3.20",
            &[
                ("busybox", "1.36.1-r29"),
                ("busybox-binsh", "1.36.1-r29"),
                ("ssl_client", "1.36.1-r29"),
                ("libssl3", "3.3.2-r0"),
                ("libcrypto3", "3.3.2-r0"),
                ("musl", "1.2.5-r0"),
                ("zlib", "1.3.1-r1"),
                ("alpine-baselayout", "3.6.5-r0"),
                ("ca-certificates-bundle", "20240705-r0"),
            ],
        ),
        (
            "alpine",
            "3.19",
            &[
                ("busybox", "1.36.1-r19"),
                ("libssl3", "3.1.7-r0"),
                ("musl", "1.2.4_git20230717-r4"),
                ("zlib", "1.3.1-r0"),
                ("alpine-baselayout", "3.4.3-r2"),
            ],
        ),
        (
            "alpine",
            "3.18",
            &[
                ("busybox", "1.36.1-r7"),
                ("busybox-binsh", "1.36.1-r7"),
                ("ssl_client", "1.36.1-r7"),
                ("libcrypto3", "3.1.7-r0"),
                ("libssl3", "3.1.7-r0"),
                ("musl", "1.2.4-r2"),
                ("musl-utils", "1.2.4-r2"),
                ("zlib", "1.2.13-r1"),
                ("apk-tools", "2.14.4-r0"),
                ("alpine-baselayout", "3.4.3-r1"),
                ("ca-certificates-bundle", "20240226-r0"),
            ],
        ),
        (
            "registry",
            "2",
            &[("ca-certificates", "20240226-r0"), ("musl", "1.2.4-r2")],
        ),
        (
            "node",
            "20-alpine",
            &[("libstdc++", "13.2.1_git20240309-r0"), ("musl", "1.2.5-r0")],
        ),
        (
            "golang",
            "1.22-alpine",
            &[
                ("ca-certificates", "20240705-r0"),
                ("busybox", "1.36.1-r29"),
            ],
        ),
        (
            "python",
            "3.12-alpine",
            &[("sqlite-libs", "3.45.3-r1"), ("tzdata", "2024b-r0")],
        ),
        (
            "nginx",
            "1.27.3-alpine",
            &[
                ("nginx", "1.27.3-r1"),
                ("nginx-module-njs", "1.27.3.0.8.7-r1"),
                ("musl", "1.2.5-r0"),
                ("busybox", "1.36.1-r29"),
            ],
        ),
    ];
    for (r, t, want) in cases {
        let layers = img(r, t).layers(&amd64());
        let db = apk_versions(&file_text(&layers, "lib/apk/db/installed").unwrap());
        for (name, v) in *want {
            assert_eq!(
                db.get(*name).map(|x| x.0.as_str()),
                Some(*v),
                "{r}:{t} {name}"
            );
        }
        // every record is well formed
        let text = file_text(&layers, "lib/apk/db/installed").unwrap();
        for rec in text.split("\n\n").filter(|r| !r.trim().is_empty()) {
            for k in ["C:Q1", "P:", "V:", "A:", "o:", "L:", "T:", "I:"] {
                assert!(
                    rec.lines().any(|l| l.starts_with(k)),
                    "{r}:{t} record lacks {k}: {rec}"
                );
            }
        }
    }
}

#[allow(dead_code)]
#[test]
fn dpkg_databases_carry_the_real_versions() {
    let cases: &[Expect] = &[
        (
            "debian",
            "bookworm-slim",
            &[
                ("libc6", "2.36-9+deb12u9"),
                ("libc-bin", "2.36-9+deb12u9"),
                ("zlib1g", "1:1.2.13.dfsg-1"),
                ("perl-base", "5.36.0-7+deb12u1"),
                ("libtinfo6", "6.4-4"),
                ("ncurses-base", "6.4-4"),
                ("libsystemd0", "252.31-1~deb12u1"),
                ("libudev1", "252.31-1~deb12u1"),
                ("libgnutls30", "3.7.9-2+deb12u3"),
                ("liblzma5", "5.4.1-0.2"),
                ("tar", "1.34+dfsg-1.2+deb12u1"),
                ("login", "1:4.13+dfsg1-1+b1"),
                ("passwd", "1:4.13+dfsg1-1+b1"),
                ("util-linux", "2.38.1-5+deb12u2"),
                ("bash", "5.2.15-2+b7"),
                ("apt", "2.6.1"),
                ("dpkg", "1.21.22"),
            ],
        ),
        (
            "ubuntu",
            "22.04",
            &[
                ("libc6", "2.35-0ubuntu3.1"),
                ("libc-bin", "2.35-0ubuntu3.1"),
                ("libssl3", "3.0.2-0ubuntu1.6"),
                ("zlib1g", "1:1.2.11.dfsg-2ubuntu9"),
                ("libncursesw6", "6.3-2"),
                ("libtinfo6", "6.3-2"),
                ("perl-base", "5.34.0-3ubuntu1"),
                ("apt", "2.4.6"),
                ("bash", "5.1-6ubuntu1"),
            ],
        ),
        (
            "python",
            "3.12-slim",
            &[("libssl3", "3.0.15-1~deb12u1"), ("libc6", "2.36-9+deb12u9")],
        ),
        (
            "golang",
            "1.22",
            &[
                ("git", "1:2.39.5-0+deb12u1"),
                ("gcc-12", "12.2.0-14"),
                ("libc6", "2.36-9+deb12u9"),
            ],
        ),
    ];
    for (r, t, want) in cases {
        let layers = img(r, t).layers(&amd64());
        let status = file_text(&layers, "var/lib/dpkg/status").unwrap();
        let db = dpkg_versions(&status);
        for (name, v) in *want {
            assert_eq!(
                db.get(*name).map(|x| x.0.as_str()),
                Some(*v),
                "{r}:{t} {name}"
            );
        }
        for para in status.split("\n\n").filter(|p| !p.trim().is_empty()) {
            for k in [
                "Package: ",
                "Status: install ok installed",
                "Priority: ",
                "Architecture: ",
                "Version: ",
                "Description: ",
            ] {
                assert!(
                    para.lines().any(|l| l.starts_with(k)),
                    "{r}:{t} paragraph lacks {k}: {para}"
                );
            }
        }
        for n in db.keys() {
            let plain = format!("var/lib/dpkg/info/{n}.list");
            let same = format!("var/lib/dpkg/info/{n}:amd64.list");
            assert!(
                find_entry(&layers, &plain).is_some() || find_entry(&layers, &same).is_some(),
                "{r}:{t} {n}"
            );
        }
    }
    let slim = dpkg_db("debian", "bookworm-slim");
    assert!(
        !slim.contains_key("libssl3"),
        "bookworm-slim ships no libssl3"
    );
    assert_eq!(slim["libc6"].1, "amd64");
    let arm = img("debian", "bookworm-slim").layers(&arm64());
    let arm_db = dpkg_versions(&file_text(&arm, "var/lib/dpkg/status").unwrap());
    assert_eq!(arm_db["libc6"].1, "arm64");
    assert_eq!(arm_db["tzdata"].1, "arm64");
    assert!(find_entry(&arm, "usr/lib/aarch64-linux-gnu/libc.so.6").is_some());
    assert!(find_entry(&arm, "usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1").is_some());
    assert!(find_entry(&arm, "lib64").is_none());
    let x = img("debian", "bookworm-slim").layers(&amd64());
    assert!(find_entry(&x, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2").is_some());
    assert_eq!(
        find_entry(&x, "lib64").unwrap().kind,
        Kind::Symlink("usr/lib64".into())
    );
    let c = img("debian", "bookworm-slim").config(&arm64());
    assert!(
        c["history"][0]["created_by"]
            .as_str()
            .unwrap()
            .contains("'arm64'")
    );
}

fn dpkg_db(r: &str, t: &str) -> BTreeMap<String, (String, String)> {
    let layers = img(r, t).layers(&amd64());
    dpkg_versions(&file_text(&layers, "var/lib/dpkg/status").unwrap())
}

#[test]
fn helpers_parse_sizes_and_times() {
    assert_eq!(parse_size("1.5M").unwrap(), 1_572_864);
    assert_eq!(parse_size("7_800_000").unwrap(), 7_800_000);
    assert_eq!(parse_size("2kB").unwrap(), 2000);
    assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        parse_time("2024-01-01T00:00:00.123Z"),
        Some(layer::DEFAULT_MTIME)
    );
    assert_eq!(base64(b"hello"), "aGVsbG8=");
    assert_eq!(full_repository("alpine"), "docker.io/library/alpine");
    assert_eq!(full_repository("bitnami/nginx"), "docker.io/bitnami/nginx");
    assert_eq!(full_repository("ghcr.io/a/b"), "ghcr.io/a/b");
}
