//! One sequence of builds, tags, `rmi` and `image prune` run through
//! imagelab and through podman (a private root, the `vfs` driver, chroot
//! isolation, no network), comparing which images remain, which are
//! dangling, and what `images --filter` and `--format` select. Names are
//! compared in docker's familiar form (podman prints `localhost/app:1` and
//! `docker.io/library/alpine:3.20` for what docker calls `app:1` and
//! `alpine:3.20`); image IDs are never compared, the two builders write
//! different configs.
//!
//! Where podman is known to differ from docker, imagelab is held to
//! docker's behaviour (moby's daemon, docker/cli) and podman to its own, so
//! a change in podman shows here. Each such place is marked `DIFFERENCE:`
//! and listed in ARCHITECTURE.md ("Differential test against podman").
//!
//! The base image comes from imagelab (`docker save alpine:3.20`, then
//! `podman load`) and the Dockerfiles use only COPY, LABEL and ENV, so
//! podman needs neither a registry nor a runtime. Creation times are pinned
//! on both sides (`SOURCE_DATE_EPOCH`, `podman build --timestamp`), so
//! `before=` and `since=` have the same order to work on. Where podman is
//! missing or cannot run, the test prints `skipped: …` and passes.

mod common;
use common::{Lab, containers_tool, runs_here};
use std::process::Output;

/// The same store state, two engines.
struct Pair {
    lab: Lab,
    tmp: tempfile::TempDir,
}

impl Pair {
    /// podman with `args`, whatever its exit status.
    fn podman(&self, args: &[&str]) -> Output {
        containers_tool("podman", self.tmp.path())
            .args(args)
            .output()
            .expect("podman runs")
    }

    /// podman with `args`, which must succeed; its stdout.
    fn pd_ok(&self, args: &[&str]) -> String {
        let o = self.podman(args);
        assert!(
            o.status.success(),
            "podman {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into()
    }

    /// `docker images OPTS --format '{{.Repository}}:{{.Tag}}'`, sorted:
    /// docker orders by creation time only, and the rows of one image come
    /// out of a Go map, so row order is not part of the contract.
    fn lab_names(&mut self, opts: &str) -> Vec<String> {
        let out = self
            .lab
            .ok(&format!(
                "docker images {opts} --format '{{{{.Repository}}}}:{{{{.Tag}}}}'"
            ))
            .stdout;
        sorted(out.lines().map(str::to_string))
    }

    /// The same listing from podman, in familiar form.
    fn pd_names(&self, opts: &[&str]) -> Vec<String> {
        let mut args = vec!["images"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&["--format", "{{.Repository}}:{{.Tag}}"]);
        sorted(self.pd_ok(&args).lines().map(familiar))
    }

    /// Both listings for one filter (`--filter F`, or none).
    fn names(&mut self, filter: Option<&str>) -> (Vec<String>, Vec<String>) {
        match filter {
            Some(f) => (
                self.lab_names(&format!("--filter '{f}'")),
                self.pd_names(&["--filter", f]),
            ),
            None => (self.lab_names(""), self.pd_names(&[])),
        }
    }

    /// Asserts both engines select `want` (sorted familiar names).
    fn same(&mut self, filter: Option<&str>, want: &[&str]) {
        let (ours, theirs) = self.names(filter);
        assert_eq!(ours, want, "imagelab, filter {filter:?}");
        assert_eq!(theirs, want, "podman, filter {filter:?}");
    }

    /// Builds the context folder `ctx` under both engines with the creation
    /// time pinned to `epoch`.
    fn build(&mut self, ctx: &str, tags: &[&str], epoch: u64) {
        let t: String = tags.iter().map(|t| format!(" -t {t}")).collect();
        self.lab.ok(&format!(
            "docker build -q --build-arg SOURCE_DATE_EPOCH={epoch}{t} {ctx}"
        ));
        let dir = self.lab.work().join(ctx);
        let epoch = epoch.to_string();
        let mut args = vec![
            "build",
            "-q",
            "--isolation",
            "chroot",
            "--timestamp",
            &epoch,
        ];
        for tag in tags {
            args.extend_from_slice(&["-t", tag]);
        }
        let dir = dir.to_string_lossy().to_string();
        args.push(&dir);
        self.pd_ok(&args);
    }

    /// The image ID each engine gives `name` (short form).
    fn ids(&mut self, name: &str) -> (String, String) {
        let ours = self
            .lab
            .ok(&format!("docker images -q {name}"))
            .stdout
            .lines()
            .next()
            .unwrap()
            .to_string();
        let theirs = self.pd_ok(&["images", "-q", name]).trim().to_string();
        (ours, theirs)
    }
}

fn sorted(it: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = it.collect();
    v.sort();
    v
}

/// podman's full names in docker's familiar form.
fn familiar(name: &str) -> String {
    for p in ["localhost/", "docker.io/library/", "docker.io/"] {
        if let Some(rest) = name.strip_prefix(p) {
            return rest.to_string();
        }
    }
    name.to_string()
}

/// Creation times after alpine:3.20's (2024-09-06), 100 s apart.
const T1: u64 = 1_730_000_100;
const T2: u64 = 1_730_000_200;
const T3: u64 = 1_730_000_300;
const T4: u64 = 1_730_000_400;

#[test]
fn tag_build_rmi_and_prune_leave_the_same_images_as_podman() {
    let tmp = tempfile::tempdir().unwrap();
    if !runs_here("podman", tmp.path()) {
        return;
    }
    let mut p = Pair {
        lab: Lab::new(),
        tmp,
    };

    // The base image, from imagelab into podman.
    p.lab.ok("docker pull -q alpine:3.20");
    p.lab.ok("docker save -o alpine.tar alpine:3.20");
    let archive = p.lab.work().join("alpine.tar");
    p.pd_ok(&["load", "-q", "-i", &archive.to_string_lossy()]);

    p.lab.write("app/a.txt", "one\n");
    p.lab.write(
        "app/Dockerfile",
        "FROM alpine:3.20\nCOPY a.txt /a.txt\nLABEL tier=web team=x\nENV V=1\n",
    );
    p.lab.write("db/b.txt", "two\n");
    p.lab.write(
        "db/Dockerfile",
        "FROM alpine:3.20\nCOPY b.txt /b.txt\nLABEL tier=db\n",
    );
    p.lab.write("web/w.txt", "w1\n");
    p.lab.write(
        "web/Dockerfile",
        "FROM alpine:3.20\nCOPY w.txt /w.txt\nLABEL tier=web\nENV W=1\n",
    );
    p.build("app", &["app:1", "app:latest"], T1);
    p.build("db", &["db:1"], T2);
    p.build("web", &["web:1"], T3);
    // web:1 moves to a new build: the first one is left dangling.
    p.lab.write("web/w.txt", "w2\n");
    p.build("web", &["web:1"], T4);
    p.lab.ok("docker tag app:1 reg.example/team/app:v1");
    p.pd_ok(&["tag", "app:1", "reg.example/team/app:v1"]);

    let everything = [
        "<none>:<none>",
        "alpine:3.20",
        "app:1",
        "app:latest",
        "db:1",
        "reg.example/team/app:v1",
        "web:1",
    ];
    p.same(None, &everything);

    // DIFFERENCE: podman's build keeps one image per instruction (as
    // docker's classic builder did); BuildKit keeps none, so `-a` lists the
    // same images as without it. podman lists its intermediates under -a.
    let (ours, theirs) = (p.lab_names("-a"), p.pd_names(&["-a"]));
    assert_eq!(ours, everything);
    let named = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|n| *n != "<none>:<none>")
            .cloned()
            .collect()
    };
    assert_eq!(named(&theirs), everything[1..]);
    assert!(
        theirs.iter().filter(|n| *n == "<none>:<none>").count() > 1,
        "podman -a: {theirs:?}"
    );

    // Dangling: the untagged head only (not podman's intermediates, which
    // have children; moby lists only heads for dangling=true too).
    p.same(Some("dangling=true"), &["<none>:<none>"]);
    assert_eq!(p.lab_names("-a --filter dangling=true"), ["<none>:<none>"]);
    assert_eq!(
        p.pd_names(&["-a", "--filter", "dangling=true"]),
        ["<none>:<none>"]
    );
    p.same(Some("dangling=false"), &everything[1..]);

    // Labels: key present, key=value; one row per tag of each image.
    p.same(
        Some("label=tier"),
        &[
            "<none>:<none>",
            "app:1",
            "app:latest",
            "db:1",
            "reg.example/team/app:v1",
            "web:1",
        ],
    );
    p.same(
        Some("label=tier=web"),
        &[
            "<none>:<none>",
            "app:1",
            "app:latest",
            "reg.example/team/app:v1",
            "web:1",
        ],
    );
    p.same(
        Some("label=team=x"),
        &["app:1", "app:latest", "reg.example/team/app:v1"],
    );
    p.same(Some("label=tier=cache"), &[]);

    // before= / since=: strictly older / newer than the named image.
    p.same(
        Some("before=db:1"),
        &[
            "alpine:3.20",
            "app:1",
            "app:latest",
            "reg.example/team/app:v1",
        ],
    );
    p.same(Some("since=db:1"), &["<none>:<none>", "web:1"]);
    p.same(
        Some("since=alpine:3.20"),
        &[
            "<none>:<none>",
            "app:1",
            "app:latest",
            "db:1",
            "reg.example/team/app:v1",
            "web:1",
        ],
    );

    // reference=: docker matches each reference on its own, in familiar
    // form (`repo:tag`, else `repo`), with Go's path.Match, and lists only
    // the references that matched.
    // DIFFERENCE: podman selects an image when one of its names matches and
    // then lists every name the image has; it also matches full names
    // (`docker.io/library/alpine`), which docker's familiar match never sees.
    for (f, docker, podman) in [
        (
            "reference=app",
            &["app:1", "app:latest"][..],
            &["app:1", "app:latest", "reg.example/team/app:v1"][..],
        ),
        (
            "reference=*:1",
            &["app:1", "db:1", "web:1"][..],
            &[
                "app:1",
                "app:latest",
                "db:1",
                "reg.example/team/app:v1",
                "web:1",
            ][..],
        ),
        (
            "reference=reg.example/*/*",
            &["reg.example/team/app:v1"][..],
            &["app:1", "app:latest", "reg.example/team/app:v1"][..],
        ),
        (
            "reference=alpine",
            &["alpine:3.20"][..],
            &["alpine:3.20"][..],
        ),
        ("reference=library/alpine", &[][..], &["alpine:3.20"][..]),
        (
            "reference=docker.io/library/alpine:3.20",
            &[][..],
            &["alpine:3.20"][..],
        ),
    ] {
        let (ours, theirs) = p.names(Some(f));
        assert_eq!(ours, docker, "imagelab, {f}");
        assert_eq!(theirs, podman, "podman, {f}");
    }

    // -q: docker/cli prints `{{.ID}}` once per row, so an image with three
    // tags prints its ID three times.
    // DIFFERENCE: podman's -q prints each ID once.
    let ours = p.lab.ok("docker images -q").stdout;
    let theirs = p.pd_ok(&["images", "-q"]);
    assert_eq!(ours.lines().count(), everything.len());
    assert_eq!(theirs.lines().count(), everything.len() - 2);
    let (app_ours, app_theirs) = p.ids("app:1");
    assert_eq!(ours.lines().filter(|l| *l == app_ours).count(), 3);
    assert_eq!(theirs.lines().filter(|l| *l == app_theirs).count(), 1);

    // rmi by ID of an image with several tags, without -f: refused by both.
    // DIFFERENCE (words, exit status): moby's conflict `image is referenced
    // in multiple repositories` (exit 1; said even when the tags share one
    // repository) against podman's `by ID with more than one tag` (125).
    let o = p.lab.run(&format!("docker rmi {app_ours}"));
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        format!(
            "Error response from daemon: conflict: unable to delete {app_ours} (must be forced) - image is referenced in multiple repositories\n"
        )
    );
    let o = p.podman(&["rmi", &app_theirs]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("by ID with more than one tag"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    p.same(None, &everything);

    // rmi by name of an image with several tags only untags.
    let ours = p.lab.ok("docker rmi app:latest").stdout;
    let theirs = p.pd_ok(&["rmi", "app:latest"]);
    assert_eq!(ours, "Untagged: app:latest\n");
    assert_eq!(theirs, "Untagged: localhost/app:latest\n");

    // rmi -f by ID: every tag goes, then the image.
    let ours = p.lab.ok(&format!("docker rmi -f {app_ours}")).stdout;
    let theirs = p.pd_ok(&["rmi", "-f", &app_theirs]);
    let untagged = |s: &str| {
        sorted(
            s.lines()
                .filter_map(|l| l.strip_prefix("Untagged: "))
                .map(familiar),
        )
    };
    assert_eq!(untagged(&ours), ["app:1", "reg.example/team/app:v1"]);
    assert_eq!(untagged(&theirs), ["app:1", "reg.example/team/app:v1"]);
    assert!(ours.contains("\nDeleted: sha256:"), "{ours}");
    assert!(theirs.contains("\nDeleted: "), "{theirs}");
    p.same(None, &["<none>:<none>", "alpine:3.20", "db:1", "web:1"]);

    // image prune: the dangling image goes, nothing else.
    // DIFFERENCE (report): docker prints `Deleted Images:`, `deleted:`
    // lines (image and released layers) and `Total reclaimed space:`;
    // podman prints the removed image IDs only (its intermediates included).
    let ours = p.lab.ok("docker image prune -f").stdout;
    let theirs = p.pd_ok(&["image", "prune", "-f"]);
    assert!(
        ours.starts_with("Deleted Images:\ndeleted: sha256:"),
        "{ours}"
    );
    assert!(ours.contains("\nTotal reclaimed space: "), "{ours}");
    assert!(
        !theirs.is_empty() && theirs.lines().all(|l| l.len() == 64),
        "{theirs}"
    );
    p.same(None, &["alpine:3.20", "db:1", "web:1"]);
    p.same(Some("dangling=true"), &[]);

    // A second prune finds nothing.
    // DIFFERENCE: docker still prints `Total reclaimed space: 0B`; podman
    // prints nothing.
    assert_eq!(
        p.lab.ok("docker image prune -f").stdout,
        "Total reclaimed space: 0B\n"
    );
    assert_eq!(p.pd_ok(&["image", "prune", "-f"]), "");

    // prune -a with a label filter: only the unused images that match.
    p.lab.ok("docker image prune -a -f --filter label=tier=db");
    p.pd_ok(&["image", "prune", "-a", "-f", "--filter", "label=tier=db"]);
    p.same(None, &["alpine:3.20", "web:1"]);

    // rmi by ID of an image with one tag removes it without -f.
    let (web_ours, web_theirs) = p.ids("web:1");
    p.lab.ok(&format!("docker rmi {web_ours}"));
    p.pd_ok(&["rmi", &web_theirs]);
    p.same(None, &["alpine:3.20"]);

    // prune -a: no container uses anything, so the base goes too.
    p.lab.ok("docker image prune -a -f");
    p.pd_ok(&["image", "prune", "-a", "-f"]);
    p.same(None, &[]);
    assert_eq!(p.lab.ok("docker images -a -q").stdout, "");
    assert_eq!(p.pd_ok(&["images", "-a", "-q"]), "");
}
