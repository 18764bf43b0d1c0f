//! Removing what is unused: `docker image prune` (dangling heads, `-a`,
//! `until=`/`label=`/`label!=` filters, images a container uses kept, the
//! confirmation prompt), `docker system df [-v]` and `docker system prune`
//! (sections in docker's order, one total), as docker prints them.

mod common;
use common::Lab;

fn snap(lab: &Lab, name: &str, text: String) {
    let name = format!("prune_{name}");
    lab.settings().bind(|| insta::assert_snapshot!(name, text));
}

/// Builds `app:1` twice with different content: the first build is left
/// dangling, as a rebuild under the same tag leaves it.
fn dangling(lab: &mut Lab) {
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo v1 > /v\n");
    lab.ok("docker build -q -t app:1 .");
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo v2 > /v\n");
    lab.ok("docker build -q -t app:1 .");
}

fn listing(lab: &mut Lab) -> String {
    lab.ok("docker images -a --format '{{.Repository}}:{{.Tag}} {{.ID}}'")
        .stdout
}

#[test]
fn image_prune_removes_dangling_images_only() {
    let mut lab = Lab::new();
    dangling(&mut lab);
    let o = lab.run("docker images --filter dangling=true -q");
    assert_eq!(o.stdout.lines().count(), 1);
    // Declining the prompt changes nothing.
    let before = listing(&mut lab);
    lab.write("no", "n\n");
    lab.write("yes", "y\n");
    let o = lab.run("docker image prune < no");
    assert_eq!(o.code, 0);
    snap(&lab, "declined", o.both());
    assert_eq!(listing(&mut lab), before);

    let o = lab.run("docker image prune < yes");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "dangling", o.both());
    assert_eq!(
        lab.run("docker images --filter dangling=true -q").stdout,
        ""
    );
    assert!(listing(&mut lab).contains("app:1"));
    // Nothing left to prune.
    let o = lab.run("docker image prune -f");
    assert_eq!(o.stdout, "Total reclaimed space: 0B\n");
}

#[test]
fn image_prune_all_keeps_what_containers_use() {
    let mut lab = Lab::new();
    dangling(&mut lab);
    lab.ok("docker tag app:1 app:latest");
    lab.ok("docker run --name keep alpine:3.20 true");
    let o = lab.run("docker image prune -a -f");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "all", o.both());
    // alpine stays: a stopped container was created from it.
    assert_eq!(listing(&mut lab), "alpine:3.20 742791ced2bf\n");
    lab.ok("docker rm keep");
    let o = lab.run("docker image prune --all --force");
    assert!(o.stdout.contains("untagged: alpine:3.20\n"), "{}", o.both());
    assert_eq!(listing(&mut lab), "");
}

#[test]
fn image_prune_filters() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nLABEL keep=yes\nRUN echo a > /a\n",
    );
    lab.ok("docker build -q -t labelled .");
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN echo b > /b\n");
    lab.ok("docker build -q -t plain .");
    let o = lab.run("docker image prune -a -f --filter label!=keep");
    assert_eq!(o.code, 0, "{}", o.both());
    assert!(o.stdout.contains("untagged: plain:latest"), "{}", o.both());
    assert!(!o.stdout.contains("labelled"), "{}", o.both());
    // Every image here was made "now" by the lab's clock or long ago.
    let o = lab.run("docker image prune -a -f --filter until=2020-01-01");
    assert_eq!(o.stdout, "Total reclaimed space: 0B\n");
    let o = lab.run("docker image prune -a -f --filter label=keep=yes");
    assert!(
        o.stdout.contains("untagged: labelled:latest"),
        "{}",
        o.both()
    );

    for (f, name) in [
        ("--filter foo=bar", "bad_key"),
        ("--filter until=soon", "bad_until"),
        ("--filter until=1h --filter until=2h", "two_untils"),
        ("--filter nokey", "no_equals"),
    ] {
        let o = lab.run(&format!("docker image prune -f {f}"));
        assert_eq!(o.code, 1, "{f}");
        snap(&lab, &format!("filter_{name}"), o.both());
    }
    let o = lab.run("docker image prune -f extra");
    assert_eq!(o.code, 1);
    snap(&lab, "extra_argument", o.both());
}

#[test]
fn system_df_counts_and_prices_what_is_reclaimable() {
    let mut lab = Lab::new();
    let o = lab.run("docker system df");
    snap(&lab, "df_empty", o.both());
    dangling(&mut lab);
    lab.ok("docker volume create data");
    lab.ok("docker run --name writer -v data:/data alpine:3.20 sh -c 'echo hello > /data/f; echo x > /root/x'");
    let o = lab.run("docker system df");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "df", o.both());
    let o = lab.run("docker system df -v");
    snap(&lab, "df_verbose", o.both());
    let o = lab.run("docker system df --format '{{.Type}}: {{.Reclaimable}}'");
    snap(&lab, "df_format", o.both());
}

#[test]
fn system_prune_runs_each_prune_in_order() {
    let mut lab = Lab::new();
    dangling(&mut lab);
    lab.ok("docker run --name gone alpine:3.20 true");
    lab.write("enter", "\n");
    let o = lab.run("docker system prune --filter label=x --filter until=24h < enter");
    snap(&lab, "system_declined", o.both());
    let o = lab.run("docker system prune -f");
    assert_eq!(o.code, 0, "{}", o.both());
    snap(&lab, "system", o.both());
    let o = lab.run("docker system prune -a -f --volumes");
    snap(&lab, "system_all", o.both());
    assert_eq!(listing(&mut lab), "");
    let o = lab.run("docker system prune -f --volumes --filter until=1h");
    assert_eq!(o.code, 1);
    snap(&lab, "system_volumes_until", o.both());
    let o = lab.run("docker system");
    snap(&lab, "system_usage", o.both());
}
