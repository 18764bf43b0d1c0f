//! Tests of the package managers, run through `userland::run` with argv.
//! Expected texts follow apk-tools 2.14 (`src/commit.c`: `OK: %zu MiB in
//! %d packages`, `ERROR: unable to select packages:`) and apt 2.6 / dpkg
//! 1.21 as seen in `docker build` logs of that era.

use crate::layer::Kind;
use crate::userland::fs::Fs;
use crate::userland::proc::{Stream, World};
use crate::userland::testing::{image_fs, world};
use crate::userland::{Outcome, Spec, run};

fn go(fs: &mut Fs, w: &World, argv: &[&str]) -> Outcome {
    go_as(fs, w, argv, "")
}

fn go_as(fs: &mut Fs, w: &World, argv: &[&str], user: &str) -> Outcome {
    run(
        fs,
        w,
        &Spec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            user: user.into(),
            ..Spec::default()
        },
    )
    .expect("starts")
}

fn out(o: &Outcome) -> String {
    o.transcript.stream(Stream::Stdout)
}

fn err(o: &Outcome) -> String {
    o.transcript.stream(Stream::Stderr)
}

/// Bytes a layer made from the fs changes would hold (file contents).
fn diff_bytes(fs: &Fs) -> u64 {
    fs.diff()
        .iter()
        .map(|e| match &e.kind {
            Kind::File(c) => c.len(),
            _ => 0,
        })
        .sum()
}

fn offline() -> World {
    let mut w = world();
    w.network = false;
    w
}

#[test]
fn every_universe_parses() {
    assert_eq!(super::universe::check_all(), Vec::<String>::new());
}

#[test]
fn apk_add_curl_fetches_indexes_installs_the_closure_and_runs_triggers() {
    let mut fs = image_fs("alpine:3.20");
    let o = go(&mut fs, &world(), &["apk", "add", "curl"]);
    assert_eq!(o.status, 0);
    assert_eq!(
        out(&o),
        "fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz\n\
         fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/community/x86_64/APKINDEX.tar.gz\n\
         (1/9) Installing brotli-libs (1.1.0-r2)\n\
         (2/9) Installing c-ares (1.33.1-r0)\n\
         (3/9) Installing libunistring (1.2-r0)\n\
         (4/9) Installing libidn2 (2.3.7-r0)\n\
         (5/9) Installing libpsl (0.21.5-r1)\n\
         (6/9) Installing nghttp2-libs (1.62.1-r0)\n\
         (7/9) Installing zstd-libs (1.5.6-r0)\n\
         (8/9) Installing libcurl (8.11.1-r0)\n\
         (9/9) Installing curl (8.11.1-r0)\n\
         Executing busybox-1.36.1-r29.trigger\n\
         OK: 13 MiB in 24 packages\n"
    );
    assert_eq!(err(&o), "");
    assert!(fs.is_file("/usr/bin/curl"));
    assert_eq!(
        fs.read_link("/usr/lib/libcurl.so.4").unwrap(),
        "libcurl.so.4.8.0"
    );
    let db = fs.read_string("/lib/apk/db/installed").unwrap();
    assert!(db.contains("\nP:curl\nV:8.11.1-r0\nA:x86_64\n"), "{db}");
    assert!(db.contains("F:usr/bin\nR:curl\na:0:0:755\n"));
    assert!(db.contains("o:curl\n") && db.contains("p:so:libcurl.so.4=4.8.0\n"));
    let world_file = fs.read_string("/etc/apk/world").unwrap();
    assert!(world_file.lines().any(|l| l == "curl"));
    // The index cache stays in the layer.
    assert_eq!(fs.read_dir("/var/cache/apk").unwrap().len(), 2);
    // A second add finds the cached indexes and prints no fetch lines.
    let o = go(&mut fs, &world(), &["apk", "add", "jq"]);
    assert!(out(&o).starts_with("(1/2) Installing oniguruma (6.9.9-r0)\n"));
    // curl now resolves on PATH by its file.
    assert!(crate::userland::exec::lookup("apk").is_some());
}

#[test]
fn apk_no_cache_keeps_the_index_out_of_the_layer() {
    let mut cached = image_fs("alpine:3.20");
    go(&mut cached, &world(), &["apk", "add", "curl"]);
    let mut clean = image_fs("alpine:3.20");
    let o = go(&mut clean, &world(), &["apk", "add", "--no-cache", "curl"]);
    assert_eq!(o.status, 0);
    assert!(out(&o).starts_with(
        "fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz\n"
    ));
    assert_eq!(
        clean.read_dir("/var/cache/apk").unwrap(),
        Vec::<String>::new()
    );
    let (a, b) = (diff_bytes(&cached), diff_bytes(&clean));
    assert!(a > b + 4_000_000, "cached {a} vs no-cache {b}");
}

#[test]
fn apk_unknown_package_and_impossible_pin_fail_as_apk_says() {
    let mut fs = image_fs("alpine:3.20");
    let o = go(
        &mut fs,
        &world(),
        &["apk", "add", "--no-cache", "nosuchpkg"],
    );
    assert_eq!(o.status, 1);
    assert_eq!(
        err(&o),
        "ERROR: unable to select packages:\n  nosuchpkg (no such package):\n    required by: world[nosuchpkg]\n"
    );
    assert!(
        !fs.read_string("/etc/apk/world")
            .unwrap()
            .contains("nosuchpkg")
    );
    let o = go(
        &mut fs,
        &world(),
        &["apk", "add", "--no-cache", "curl=7.0.0-r0"],
    );
    assert_eq!(o.status, 1);
    assert_eq!(
        err(&o),
        "ERROR: unable to select packages:\n  curl-8.11.1-r0:\n    breaks: world[curl=7.0.0-r0]\n"
    );
    // A pin that holds works and is kept in the world.
    let o = go(
        &mut fs,
        &world(),
        &["apk", "add", "--no-cache", "curl=8.11.1-r0"],
    );
    assert_eq!(o.status, 0);
    assert!(
        fs.read_string("/etc/apk/world")
            .unwrap()
            .contains("curl=8.11.1-r0\n")
    );
}

#[test]
fn apk_without_network_warns_and_cannot_select() {
    let mut fs = image_fs("alpine:3.20");
    let o = go(&mut fs, &offline(), &["apk", "add", "curl"]);
    assert_eq!(o.status, 1);
    assert_eq!(
        o.transcript.text(),
        "fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz\n\
         WARNING: updating and opening https://dl-cdn.alpinelinux.org/alpine/v3.20/main: temporary error (try again later)\n\
         fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/community/x86_64/APKINDEX.tar.gz\n\
         WARNING: updating and opening https://dl-cdn.alpinelinux.org/alpine/v3.20/community: temporary error (try again later)\n\
         ERROR: unable to select packages:\n  curl (no such package):\n    required by: world[curl]\n"
    );
}

#[test]
fn apk_needs_root() {
    let mut fs = image_fs("alpine:3.20");
    let o = go_as(&mut fs, &world(), &["apk", "add", "curl"], "nobody");
    assert_eq!(o.status, 99);
    assert_eq!(
        err(&o),
        "ERROR: Unable to lock database: Permission denied\nERROR: Failed to open apk database: Permission denied\n"
    );
    // Queries work for anyone.
    let o = go_as(&mut fs, &world(), &["apk", "info"], "nobody");
    assert_eq!(o.status, 0);
    assert!(out(&o).starts_with("alpine-baselayout-data\nmusl\nbusybox\n"));
}

#[test]
fn apk_update_prints_each_repository_and_the_count() {
    let mut fs = image_fs("alpine:3.20");
    let o = go(&mut fs, &world(), &["apk", "update"]);
    assert_eq!(o.status, 0);
    assert_eq!(
        out(&o),
        "fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz\n\
         fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/community/x86_64/APKINDEX.tar.gz\n\
         v3.20.3-219-g2f8e1b0e2c4 [https://dl-cdn.alpinelinux.org/alpine/v3.20/main]\n\
         v3.20.3-218-ga6e5d2f1c33 [https://dl-cdn.alpinelinux.org/alpine/v3.20/community]\n\
         OK: 24167 distinct packages available\n"
    );
}

#[test]
fn apk_nginx_pre_install_adds_its_user_and_ships_its_config() {
    let mut fs = image_fs("alpine:3.20");
    let o = go(&mut fs, &world(), &["apk", "add", "--no-cache", "nginx"]);
    assert_eq!(o.status, 0);
    assert!(
        out(&o).contains(
            "(2/2) Installing nginx (1.26.2-r0)\nExecuting nginx-1.26.2-r0.pre-install\n"
        )
    );
    assert!(
        fs.read_string("/etc/passwd")
            .unwrap()
            .ends_with("nginx:x:100:101:nginx:/var/lib/nginx:/sbin/nologin\n")
    );
    assert!(
        fs.read_string("/etc/group")
            .unwrap()
            .contains("nginx:x:101:nginx\n")
    );
    let conf = fs.read_string("/etc/nginx/http.d/default.conf").unwrap();
    assert!(conf.contains("listen 80 default_server;"));
    assert!(
        fs.read_string("/etc/nginx/nginx.conf")
            .unwrap()
            .contains("include /etc/nginx/http.d/*.conf;")
    );
    assert!(
        fs.read_string("/var/lib/nginx/html/index.html")
            .unwrap()
            .contains("Welcome to nginx!")
    );
    assert!(fs.read("/lib/apk/db/scripts.tar").unwrap().len() >= 1536);
}

#[test]
fn apk_virtual_packages_come_and_go_together() {
    let mut fs = image_fs("alpine:3.20");
    let o = go(
        &mut fs,
        &world(),
        &[
            "apk",
            "add",
            "--no-cache",
            "--virtual",
            ".build-deps",
            "make",
            "patch",
        ],
    );
    assert_eq!(o.status, 0);
    assert!(out(&o).contains("(3/3) Installing .build-deps (20261101.120000)\n"));
    let w = fs.read_string("/etc/apk/world").unwrap();
    assert!(w.contains(".build-deps\n") && !w.contains("make"));
    let o = go(&mut fs, &world(), &["apk", "del", ".build-deps"]);
    assert_eq!(o.status, 0);
    assert_eq!(
        out(&o),
        "(1/3) Purging .build-deps (20261101.120000)\n\
         (2/3) Purging patch (2.7.6-r10)\n\
         (3/3) Purging make (4.4.1-r2)\n\
         Executing busybox-1.36.1-r29.trigger\n\
         OK: 7 MiB in 15 packages\n"
    );
    assert!(!fs.exists("/usr/bin/make"));
    assert!(fs.exists("/etc/os-release"));
}

#[test]
fn apk_info_and_search() {
    let mut fs = image_fs("alpine:3.20");
    let o = go(&mut fs, &world(), &["apk", "search", "-x", "curl"]);
    assert_eq!(out(&o), "curl-8.11.1-r0\n");
    let o = go(&mut fs, &world(), &["apk", "info", "curl"]);
    assert_eq!(
        out(&o),
        "curl-8.11.1-r0 description:\nURL retrieval utility and library\n\ncurl-8.11.1-r0 webpage:\nhttps://curl.se/\n\ncurl-8.11.1-r0 installed size:\n256 KiB\n\n"
    );
    let o = go(&mut fs, &world(), &["apk", "info", "-v"]);
    assert!(out(&o).contains("busybox-1.36.1-r29\n"));
}

#[test]
fn apk_every_release_serves_its_own_versions() {
    for (image, curl, branch) in [
        ("alpine:3.18", "8.9.1-r0", "v3.18"),
        ("alpine:3.19", "8.9.1-r1", "v3.19"),
        ("alpine:3.20", "8.11.1-r0", "v3.20"),
    ] {
        let mut fs = image_fs(image);
        let o = go(
            &mut fs,
            &world(),
            &["apk", "add", "--no-cache", "curl", "python3"],
        );
        assert_eq!(o.status, 0, "{image}: {}", o.transcript.text());
        assert!(out(&o).contains(&format!("/alpine/{branch}/main/x86_64/APKINDEX.tar.gz")));
        assert!(
            out(&o).contains(&format!("Installing curl ({curl})")),
            "{image}"
        );
        assert!(fs.exists("/usr/bin/python3"));
    }
}

#[test]
fn apk_installs_twenty_packages_quickly() {
    let mut fs = image_fs("alpine:3.20");
    let t0 = std::time::Instant::now();
    let _ = super::universe::universe("alpine-3.20");
    eprintln!("universes parsed in {:?}", t0.elapsed());
    let start = std::time::Instant::now();
    let o = go(
        &mut fs,
        &world(),
        &[
            "apk",
            "add",
            "--no-cache",
            "curl",
            "wget",
            "git",
            "bash",
            "tzdata",
            "jq",
            "vim",
            "nano",
            "unzip",
            "zip",
            "openssl",
            "nginx",
            "python3",
            "py3-pip",
            "nodejs",
            "npm",
            "build-base",
            "libpq-dev",
            "tini",
            "su-exec",
            "shadow",
            "procps",
            "gcompat",
            "less",
            "file",
            "htop",
            "sudo",
            "openssh-client",
            "gnupg",
            "netcat-openbsd",
            "dumb-init",
            "supervisor",
            "iputils-ping",
            "postgresql-client",
            "openjdk17-jre-headless",
            "libc6-compat",
            "ca-certificates",
        ],
    );
    let took = start.elapsed();
    eprintln!("apk add of 40 packages took {took:?}");
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(out(&o).contains("Executing ca-certificates-20240705-r0.trigger\n"));
    // Generous for a debug build on a shared machine; release is far faster.
    assert!(took.as_millis() < 3000, "{took:?}");
}

// ---------------------------------------------------------------- apt

const HEADER: &str =
    "Reading package lists...\nBuilding dependency tree...\nReading state information...\n";

#[test]
fn apt_without_update_cannot_locate_packages() {
    let mut fs = image_fs("debian:bookworm");
    let o = go(&mut fs, &world(), &["apt-get", "install", "-y", "curl"]);
    assert_eq!(o.status, 100);
    assert_eq!(out(&o), HEADER);
    assert_eq!(err(&o), "E: Unable to locate package curl\n");
    assert!(!fs.changed());
}

#[test]
fn apt_update_writes_the_lists_the_lesson_cleans() {
    let mut fs = image_fs("debian:bookworm");
    let o = go(&mut fs, &world(), &["apt-get", "update"]);
    assert_eq!(o.status, 0);
    assert_eq!(
        out(&o),
        "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]\n\
         Get:2 http://deb.debian.org/debian bookworm-updates InRelease [55.4 kB]\n\
         Get:3 http://deb.debian.org/debian-security bookworm-security InRelease [48.0 kB]\n\
         Get:4 http://deb.debian.org/debian bookworm/main amd64 Packages [8792 kB]\n\
         Get:5 http://deb.debian.org/debian bookworm-updates/main amd64 Packages [13.5 kB]\n\
         Get:6 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages [241 kB]\n\
         Fetched 9301 kB in 1s (7441 kB/s)\n\
         Reading package lists...\n"
    );
    let lists = fs.read_dir("/var/lib/apt/lists").unwrap();
    assert!(lists.contains(
        &"deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4".to_string()
    ));
    assert!(diff_bytes(&fs) > 17_000_000);
    // A second update only hits.
    let o = go(&mut fs, &world(), &["apt-get", "update"]);
    assert!(out(&o).starts_with("Hit:1 http://deb.debian.org/debian bookworm InRelease\n"));
}

#[test]
fn apt_get_install_curl_prints_apt_and_dpkg_lines_and_records_the_packages() {
    let mut fs = image_fs("debian:bookworm");
    go(&mut fs, &world(), &["apt-get", "update"]);
    let o = go(&mut fs, &world(), &["apt-get", "install", "-y", "curl"]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let text = out(&o);
    let expected_head = format!(
        "{HEADER}{}",
        r#"The following additional packages will be installed:
  ca-certificates libbrotli1 libcurl4 libldap-2.5-0 libldap-common
  libnghttp2-14 libpsl5 librtmp1 libsasl2-2 libsasl2-modules
  libsasl2-modules-db libssh2-1 libssl3 openssl publicsuffix
Suggested packages:
  libsasl2-modules-gssapi-mit | libsasl2-modules-gssapi-heimdal
  libsasl2-modules-ldap libsasl2-modules-otp libsasl2-modules-sql
The following NEW packages will be installed:
  ca-certificates curl libbrotli1 libcurl4 libldap-2.5-0 libldap-common
  libnghttp2-14 libpsl5 librtmp1 libsasl2-2 libsasl2-modules
  libsasl2-modules-db libssh2-1 libssl3 openssl publicsuffix
0 upgraded, 16 newly installed, 0 to remove and 0 not upgraded.
Need to get 5442 kB of archives.
After this operation, 14.0 MB of additional disk space will be used.
Get:1 http://deb.debian.org/debian bookworm/main amd64 libbrotli1 amd64 1.0.9-2+b6 [275 kB]
"#
    );
    assert!(text.starts_with(&expected_head), "{text}");
    assert!(text.contains("Get:2 http://deb.debian.org/debian bookworm/main amd64 libldap-common all 2.5.13+dfsg-5 [29.3 kB]\n"));
    assert!(text.contains("Fetched 5442 kB in 0s (21.8 MB/s)\nSelecting previously unselected package libbrotli1:amd64.\n(Reading database ... "));
    assert!(text.contains("Preparing to unpack .../12-curl_7.88.1-10+deb12u8_amd64.deb ...\nUnpacking curl (7.88.1-10+deb12u8) ...\n"));
    assert!(text.contains(
        "Setting up ca-certificates (20230311) ...\nUpdating certificates in /etc/ssl/certs...\n"
    ));
    assert!(text.ends_with("Processing triggers for libc-bin (2.36-9+deb12u9) ...\n"));
    assert_eq!(
        err(&o),
        "debconf: delaying package configuration, since apt-utils is not installed\n"
    );
    let status = fs.read_string("/var/lib/dpkg/status").unwrap();
    assert!(status.contains("Package: curl\nStatus: install ok installed\nPriority: optional\nSection: web\nInstalled-Size: 500\nMaintainer: Debian Developers <debian-devel@lists.debian.org>\nArchitecture: amd64\nMulti-Arch: foreign\nVersion: 7.88.1-10+deb12u8\n"), "{status}");
    assert!(status.contains("Package: libssl3\n") && status.contains("Source: openssl\n"));
    assert!(fs.is_file("/usr/bin/curl"));
    assert!(
        fs.read_string("/var/lib/dpkg/info/curl.list")
            .unwrap()
            .contains("/usr/bin/curl\n")
    );
    assert!(fs.exists("/var/lib/dpkg/info/libssl3:amd64.md5sums"));
    // docker-clean: no .deb stays behind.
    assert!(
        !fs.read_dir("/var/cache/apt/archives")
            .unwrap()
            .iter()
            .any(|f| f.ends_with(".deb"))
    );
    assert!(
        fs.read_string("/var/lib/apt/extended_states")
            .unwrap()
            .contains("Package: libcurl4\nArchitecture: amd64\nAuto-Installed: 1\n")
    );
    // Installing again says so.
    let o = go(&mut fs, &world(), &["apt-get", "install", "-y", "curl"]);
    assert_eq!(
        out(&o),
        format!(
            "{HEADER}curl is already the newest version (7.88.1-10+deb12u8).\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
        )
    );
}

#[test]
fn apt_asks_and_aborts_without_yes() {
    let mut fs = image_fs("debian:bookworm");
    go(&mut fs, &world(), &["apt-get", "update"]);
    let o = go(&mut fs, &world(), &["apt-get", "install", "curl"]);
    assert_eq!(o.status, 1);
    assert!(out(&o).ends_with(
        "of additional disk space will be used.\nDo you want to continue? [Y/n] Abort.\n"
    ));
    assert!(!fs.exists("/usr/bin/curl"));
}

#[test]
fn no_install_recommends_makes_a_smaller_layer() {
    let mut with = image_fs("debian:bookworm");
    go(&mut with, &world(), &["apt-get", "update"]);
    let base = diff_bytes(&with);
    let o = go(
        &mut with,
        &world(),
        &["apt-get", "install", "-y", "python3-pip"],
    );
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(out(&o).contains(" build-essential "));
    let mut without = image_fs("debian:bookworm");
    go(&mut without, &world(), &["apt-get", "update"]);
    let o = go(
        &mut without,
        &world(),
        &[
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            "python3-pip",
        ],
    );
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(
        out(&o).contains("Recommended packages:\n  build-essential python3-dev\n"),
        "{}",
        out(&o)
    );
    let (a, b) = (diff_bytes(&with) - base, diff_bytes(&without) - base);
    assert!(a > b + 100_000_000, "with recommends {a}, without {b}");
}

#[test]
fn apt_needs_root_and_apt_warns_about_its_cli() {
    let mut fs = image_fs("debian:bookworm");
    let o = go_as(
        &mut fs,
        &world(),
        &["apt-get", "install", "-y", "curl"],
        "nobody",
    );
    assert_eq!(o.status, 100);
    assert_eq!(
        err(&o),
        "E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?\n"
    );
    let o = go_as(&mut fs, &world(), &["apt-get", "update"], "nobody");
    assert_eq!(o.status, 100);
    assert_eq!(
        err(&o),
        "E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)\nE: Unable to lock directory /var/lib/apt/lists/\n"
    );
    let o = go(&mut fs, &world(), &["apt", "install", "-y", "nosuch"]);
    assert_eq!(o.status, 100);
    assert_eq!(
        err(&o),
        "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\nE: Unable to locate package nosuch\n"
    );
}

#[test]
fn apt_pinned_versions_and_offline_fetches_fail_with_apts_words() {
    let mut fs = image_fs("debian:bookworm");
    go(&mut fs, &world(), &["apt-get", "update"]);
    let o = go(&mut fs, &world(), &["apt-get", "install", "-y", "curl=1.0"]);
    assert_eq!(o.status, 100);
    assert_eq!(err(&o), "E: Version '1.0' for 'curl' was not found\n");
    let o = go(&mut fs, &offline(), &["apt-get", "install", "-y", "jq"]);
    assert_eq!(o.status, 100);
    assert!(out(&o).contains("Err:1 http://deb.debian.org/debian bookworm/main amd64 libonig5 amd64 6.9.8-1\n  Temporary failure resolving 'deb.debian.org'\n"));
    assert!(err(&o).ends_with("E: Failed to fetch http://deb.debian.org/debian/pool/main/j/jq/jq_1.6-2.1_amd64.deb  Temporary failure resolving 'deb.debian.org'\nE: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n"), "{}", err(&o));
    let mut fresh = image_fs("debian:bookworm");
    let o = go(&mut fresh, &offline(), &["apt-get", "update"]);
    assert_eq!(o.status, 0);
    assert!(out(&o).starts_with("Ign:1 http://deb.debian.org/debian bookworm InRelease\nErr:1 http://deb.debian.org/debian bookworm InRelease\n  Temporary failure resolving 'deb.debian.org'\n"));
    assert!(err(&o).ends_with("W: Some index files failed to download. They have been ignored, or old ones used instead.\n"));
}

#[test]
fn dpkg_queries_the_database() {
    let mut fs = image_fs("debian:bookworm");
    go(&mut fs, &world(), &["apt-get", "update"]);
    go(
        &mut fs,
        &world(),
        &["apt-get", "install", "-y", "--no-install-recommends", "jq"],
    );
    let o = go(&mut fs, &world(), &["dpkg", "-l", "jq"]);
    assert_eq!(o.status, 0);
    assert_eq!(
        out(&o),
        "Desired=Unknown/Install/Remove/Purge/Hold\n\
| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n\
|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n\
||/ Name Version Architecture Description\n\
+++-====-=======-============-==================================================\n\
ii  jq   1.6-2.1 amd64        lightweight and flexible command-line JSON processor\n"
    );
    let o = go(&mut fs, &world(), &["dpkg", "-L", "jq"]);
    assert!(out(&o).starts_with("/.\n/usr\n/usr/bin\n/usr/bin/jq\n"));
    let o = go(&mut fs, &world(), &["dpkg", "-s", "jq"]);
    assert!(out(&o).starts_with("Package: jq\nStatus: install ok installed\n"));
    let o = go(&mut fs, &world(), &["dpkg", "-s", "nosuch"]);
    assert_eq!(o.status, 1);
    assert_eq!(
        err(&o),
        "dpkg-query: package 'nosuch' is not installed and no information is available\nUse dpkg --info (= dpkg-deb --info) to examine archive files.\n"
    );
    let o = go(&mut fs, &world(), &["dpkg", "-L", "nosuch"]);
    assert_eq!(o.status, 1);
    assert_eq!(
        err(&o),
        "dpkg-query: package 'nosuch' is not installed\nUse dpkg --contents (= dpkg-deb --contents) to list archive files contents.\n"
    );
    let o = go(
        &mut fs,
        &world(),
        &["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "jq"],
    );
    assert_eq!(out(&o), "jq 1.6-2.1\n");
    let o = go(&mut fs, &world(), &["apt-cache", "policy", "jq"]);
    assert_eq!(
        out(&o),
        "jq:\n  Installed: 1.6-2.1\n  Candidate: 1.6-2.1\n  Version table:\n *** 1.6-2.1 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n        100 /var/lib/dpkg/status\n"
    );
}

#[test]
fn apt_remove_purge_and_autoremove() {
    let mut fs = image_fs("debian:bookworm");
    go(&mut fs, &world(), &["apt-get", "update"]);
    go(&mut fs, &world(), &["apt-get", "install", "-y", "jq"]);
    let o = go(&mut fs, &world(), &["apt-get", "remove", "-y", "jq"]);
    assert_eq!(o.status, 0);
    let text = out(&o);
    assert!(text.starts_with(&format!(
        "{HEADER}The following packages were automatically installed and are no longer required:\n  libjq1 libonig5\nUse 'apt-get autoremove' to remove them.\nThe following packages will be REMOVED:\n  jq\n0 upgraded, 0 newly installed, 1 to remove and 0 not upgraded.\nAfter this operation, 104 kB disk space will be freed.\n(Reading database ... "
    )), "{text}");
    assert!(text.ends_with("Removing jq (1.6-2.1) ...\n"));
    assert!(!fs.exists("/usr/bin/jq"));
    let o = go(&mut fs, &world(), &["apt-get", "autoremove", "-y"]);
    assert!(out(&o).contains("The following packages will be REMOVED:\n  libjq1 libonig5\n"));
    assert!(
        !fs.read_string("/var/lib/dpkg/status")
            .unwrap()
            .contains("Package: libonig5")
    );
    let o = go(&mut fs, &world(), &["apt-get", "purge", "-y", "jq"]);
    assert!(out(&o).contains("Package 'jq' is not installed, so not removed\n"));
}

#[test]
fn ubuntu_jammy_installs_from_its_own_archive() {
    let mut fs = image_fs("ubuntu:22.04");
    go(&mut fs, &world(), &["apt-get", "update"]);
    let o = go(
        &mut fs,
        &world(),
        &[
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            "curl",
        ],
    );
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(out(&o).contains("http://archive.ubuntu.com/ubuntu jammy-updates/main amd64 curl amd64 7.81.0-1ubuntu1.18 [194 kB]\n"));
    assert!(!out(&o).contains("bookworm"));
    assert!(out(&o).contains("Unpacking curl (7.81.0-1ubuntu1.18) ...\n"));
    let status = fs.read_string("/var/lib/dpkg/status").unwrap();
    assert!(
        status.contains("Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>")
    );
}

#[test]
fn apt_get_installs_twenty_packages() {
    let mut fs = image_fs("debian:bookworm");
    go(&mut fs, &world(), &["apt-get", "update"]);
    let start = std::time::Instant::now();
    let o = go(
        &mut fs,
        &world(),
        &[
            "apt-get",
            "install",
            "-y",
            "curl",
            "wget",
            "ca-certificates",
            "git",
            "openssh-client",
            "tzdata",
            "jq",
            "vim",
            "nano",
            "unzip",
            "zip",
            "gnupg",
            "openssl",
            "nginx",
            "python3",
            "python3-pip",
            "python3-venv",
            "nodejs",
            "npm",
            "build-essential",
            "libpq-dev",
            "postgresql-client",
            "procps",
            "iputils-ping",
            "netcat-openbsd",
            "dumb-init",
            "tini",
            "supervisor",
            "sudo",
            "htop",
            "less",
            "file",
            "openjdk-17-jre-headless",
        ],
    );
    let took = start.elapsed();
    eprintln!("apt-get install of 35 packages took {took:?}");
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(
        fs.read_string("/var/www/html/index.nginx-debian.html")
            .unwrap()
            .contains("Welcome to nginx!")
    );
    assert!(
        fs.read_string("/etc/nginx/sites-available/default")
            .unwrap()
            .contains("root /var/www/html;")
    );
    assert!(took.as_millis() < 3000, "{took:?}");
}
