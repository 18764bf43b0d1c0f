//! The one test harness: a lab with its own temporary home and working
//! folder, lines run in-process through the same `Session` the REPL uses
//! (or through the real binary), and insta filters for temp paths and
//! durations so snapshots assert everything else — digests included — exactly.
#![allow(dead_code)]

use imagelab::app::{Io, Session};
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The pinned lab clock for every test (`IMAGELAB_NOW`).
pub const NOW: &str = "2026-11-01T12:00:00Z";

static CLOCK: Once = Once::new();

pub fn pin_clock() {
    CLOCK.call_once(|| {
        // SAFETY: set once, before any test reads it, to the same value for all.
        unsafe { std::env::set_var("IMAGELAB_NOW", NOW) };
    });
}

/// What one line did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// stdout and stderr together, for snapshots.
    pub fn both(&self) -> String {
        format!(
            "[exit {}]\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub struct Lab {
    pub dir: tempfile::TempDir,
    pub session: Session,
}

impl Lab {
    pub fn new() -> Lab {
        pin_clock();
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("home");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        Lab {
            session: Session::new(home, work),
            dir,
        }
    }

    pub fn home(&self) -> &Path {
        &self.session.home
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Writes a file under the working folder.
    pub fn write(&self, rel: &str, content: &str) {
        let p = self.session.cwd.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Runs one REPL line in-process.
    pub fn run(&mut self, line: &str) -> Out {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = {
            let mut io = Io {
                out: &mut out,
                err: &mut err,
                tty: false,
            };
            self.session.run_line(line, &mut io)
        };
        Out {
            code,
            stdout: String::from_utf8_lossy(&out).into(),
            stderr: String::from_utf8_lossy(&err).into(),
        }
    }

    /// Runs a line and asserts it succeeded.
    pub fn ok(&mut self, line: &str) -> Out {
        let o = self.run(line);
        assert_eq!(o.code, 0, "`{line}` failed:\n{}", o.both());
        o
    }

    /// Runs the real binary with this lab's home, in `cwd`.
    pub fn bin(&self, args: &[&str], cwd: &Path) -> Out {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_imagelab"))
            .args(args)
            .current_dir(cwd)
            .env("IMAGELAB_HOME", self.home())
            .env("IMAGELAB_NOW", NOW)
            .output()
            .expect("binary runs");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        }
    }

    /// insta settings filtering this lab's temp paths and durations.
    pub fn settings(&self) -> insta::Settings {
        let mut s = insta::Settings::clone_current();
        let root = self.dir.path().to_string_lossy().to_string();
        s.add_filter(&regex_escape(&root), "[LAB]");
        s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
        s.add_filter(r"\b\d+\.\d+s\b", "[T]s");
        // RUN output lines are stamped with seconds since the step started.
        s.add_filter(r"(?m)^(#\d+) \d+\.\d{3} ", "$1 [T] ");
        s.add_filter(r"(?m)^\d+\.\d{3} ", "[T] ");
        s.set_prepend_module_to_snapshot(false);
        s
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The nginx exercise's Dockerfile and page, written into the lab's folder.
pub fn nginx_context(lab: &Lab) {
    lab.write("index.html", "<h1>Hello from my-nginx-app</h1>\n");
    lab.write(
        "Dockerfile",
        "FROM nginx:alpine\nCOPY index.html /usr/share/nginx/html/index.html\nEXPOSE 80\n",
    );
}

/// An open in-process registry (deletes on) behind the HTTP server, on a
/// free loopback port; storage under `root/registry`.
pub fn serve_open_registry(root: &Path) -> imagelab::registry::server::Running {
    use imagelab::registry::local::Policy;
    let policy = Policy {
        delete_enabled: true,
        ..Policy::open()
    };
    let handler = imagelab::registry::server::Handler::local(
        &root.join("uploads"),
        &root.join("registry"),
        policy,
    );
    imagelab::registry::server::start(handler, "127.0.0.1:0").unwrap()
}

/// Deterministic bytes that do not compress.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Whether a peer tool (`skopeo`, `podman`, …) answers `--version`; prints
/// `skipped: TOOL not found` when it does not.
pub fn have(tool: &str) -> bool {
    let ok = std::process::Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: {tool} not found");
    }
    ok
}

/// podman (or buildah) on a private root in `dir`: the `vfs` driver, no
/// systemd, no network, its config and runtime folders under `dir`.
pub fn containers_tool(tool: &str, dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(tool);
    c.arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("runroot"))
        .args(["--storage-driver", "vfs"]);
    if tool == "podman" {
        c.args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"]);
    }
    c.env("XDG_RUNTIME_DIR", dir.join("xdg"))
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"));
    c
}

/// Whether the tool runs here at all (a CI container without user
/// namespaces may refuse); prints why not.
pub fn runs_here(tool: &str, dir: &Path) -> bool {
    if !have(tool) {
        return false;
    }
    let _ = std::fs::create_dir_all(dir.join("xdg"));
    match containers_tool(tool, dir).args(["images"]).output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!(
                "skipped: {tool} cannot run here: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            false
        }
        Err(e) => {
            eprintln!("skipped: {tool} cannot run here: {e}");
            false
        }
    }
}
