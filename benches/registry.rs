//! Registry push figures, measured against a real registry timed in the
//! same run (machines are shared and noisy, so bare times mean little).
//!
//! An OCI image layout of about 200 MB is written once: four layers of
//! incompressible pseudo-random bytes in tar, gzip level 1, a config and a
//! manifest. Every round times `skopeo copy oci:DIR:1
//! docker://127.0.0.1:PORT/demo:1` into:
//!
//! * the reference: a real distribution (`docker-registry`, Debian's build
//!   of `registry:2`) on a free loopback port, fresh storage each round;
//! * `imagelab registry serve`'s server, run in-process (`server::start`
//!   over a `LocalRegistry`) on a free port, fresh storage each round.
//!   Target: at most 1.2x the reference.
//!
//! The reference runs first on even rounds and last on odd ones, so noise
//! hits both sides; medians are reported. Each copy is checked: the
//! registry must then serve the layout's manifest digest.
//!
//! Run with `cargo bench --bench registry`; `IMAGELAB_BENCH_ROUNDS=N` sets
//! the number of rounds (default 5). Without `skopeo` or `docker-registry`
//! it says so and skips. It prints a table with PASS/FAIL and exits non-zero
//! only when it cannot run, never on slowness.

use flate2::Compression;
use flate2::write::GzEncoder;
use imagelab::digest::Digest;
use imagelab::registry::client::RemoteRegistry;
use imagelab::registry::local::Policy;
use imagelab::registry::server::{self, Handler};
use imagelab::registry::{RefSpec, Registry, media};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

// The server runs in-process: the shared `find_binary` is not needed here.
#[allow(dead_code)]
mod common;
use common::{Result, median, ms, ratio, time_process};

const LAYERS: usize = 4;
const LAYER_BYTES: usize = 50 << 20;
const DEFAULT_ROUNDS: usize = 5;
const TARGET: f64 = 1.2;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark could not run: {e}");
            ExitCode::FAILURE
        }
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        .then(|| PathBuf::from(name))
}

fn run() -> Result<()> {
    let started = Instant::now();
    let rounds = std::env::var("IMAGELAB_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_ROUNDS);
    let Some(skopeo) = tool("skopeo") else {
        println!("skipped: skopeo not found");
        return Ok(());
    };
    let Some(distribution) = ["docker-registry", "registry"].into_iter().find_map(tool) else {
        println!("skipped: docker-registry not found");
        return Ok(());
    };

    let work = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let layout = work.path().join("oci");
    let t = Instant::now();
    let (manifest, bytes) = write_layout(&layout)?;
    println!(
        "setup: an OCI layout of {LAYERS} layers, {bytes} bytes, in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let copy = |url: &str| -> Result<Duration> {
        let host = url.trim_start_matches("http://");
        let mut c = Command::new(&skopeo);
        c.args(["--insecure-policy", "copy", "-q", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:1", layout.display()))
            .arg(format!("docker://{host}/demo:1"));
        let d = time_process(c)?;
        let got = RemoteRegistry::new(url, None)
            .and_then(|r| r.get_manifest("demo", &RefSpec::Tag("1".into())))
            .map_err(|e| format!("reading back from {url}: {e}"))?;
        if got.digest != manifest {
            return Err(format!(
                "{url} serves {} for demo:1, not {manifest}",
                got.digest
            ));
        }
        Ok(d)
    };
    let reference = |round: usize| -> Result<Duration> {
        let reg = Distribution::start(&distribution, &work.path().join(format!("dist{round}")))?;
        copy(&reg.url)
    };
    let ours = |round: usize| -> Result<Duration> {
        let root = work.path().join(format!("ours{round}"));
        let storage = root.join("registry");
        let handler = Handler::local(&storage.join("_uploads"), &storage, Policy::open());
        let srv = server::start(handler, "127.0.0.1:0").map_err(|e| e.to_string())?;
        let d = copy(&srv.url())?;
        srv.stop();
        Ok(d)
    };

    // Warm-up: the layout in the page cache, both servers' code paths run.
    reference(usize::MAX)?;
    ours(usize::MAX)?;

    let mut t_ref = Vec::with_capacity(rounds);
    let mut t_ours = Vec::with_capacity(rounds);
    for round in 0..rounds {
        if round % 2 == 0 {
            t_ref.push(reference(round)?);
            t_ours.push(ours(round)?);
        } else {
            t_ours.push(ours(round)?);
            t_ref.push(reference(round)?);
        }
        println!(
            "round {round}: imagelab {:.0} ms, docker-registry {:.0} ms",
            ms(t_ours[round]),
            ms(t_ref[round])
        );
    }
    let mr = median(&mut t_ref);
    let mo = median(&mut t_ours);
    let x = ratio(mo, mr);
    println!(
        "\n{rounds} rounds, skopeo copy of {bytes} bytes ({LAYERS} gzip layers) into a registry on loopback"
    );
    println!(
        "\n{:<34} {:>11}  {:<18} {:>11}  {:>6}  {:<8} result",
        "figure", "median", "reference", "ref median", "ratio", "target"
    );
    println!(
        "{:<34} {:>8.1} ms  {:<18} {:>8.1} ms  {:>6.3}  {:<8} {}\n",
        "skopeo copy into registry serve",
        ms(mo),
        "docker-registry",
        ms(mr),
        x,
        format!("<= {TARGET}"),
        if x <= TARGET { "PASS" } else { "FAIL" }
    );
    println!("total bench time: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// A real distribution on a free loopback port, killed when dropped.
struct Distribution {
    child: Child,
    url: String,
}

impl Distribution {
    fn start(bin: &Path, dir: &Path) -> Result<Distribution> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("free port: {e}"))?
            .port();
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let config = dir.join("config.yml");
        let text = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.join("storage").display()
        );
        std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let reg = Distribution {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = RemoteRegistry::new(&reg.url, None).map_err(|e| e.to_string())?;
        let t = Instant::now();
        while client.ping().is_err() {
            if t.elapsed() > Duration::from_secs(20) {
                return Err(format!("docker-registry did not answer on {}", reg.url));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(reg)
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// The image

/// Writes the OCI layout: the manifest's digest and the blob bytes in all.
fn write_layout(dir: &Path) -> Result<(Digest, u64)> {
    let mut total = 0u64;
    let mut put = |bytes: &[u8]| -> Result<(Digest, usize)> {
        let d = Digest::of(bytes);
        let p = dir.join("blobs/sha256").join(d.hex());
        std::fs::create_dir_all(dir.join("blobs/sha256")).map_err(|e| e.to_string())?;
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
        total += bytes.len() as u64;
        Ok((d, bytes.len()))
    };
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for i in 0..LAYERS {
        let body = noise(LAYER_BYTES, i as u64 + 1);
        let mut tar = tar::Builder::new(Vec::with_capacity(LAYER_BYTES + 4096));
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        tar.append_data(&mut h, format!("data/layer{i}.bin"), body.as_slice())
            .map_err(|e| e.to_string())?;
        let tar = tar.into_inner().map_err(|e| e.to_string())?;
        diff_ids.push(Digest::of(&tar).to_string());
        let mut gz = GzEncoder::new(Vec::with_capacity(tar.len() + 65536), Compression::fast());
        gz.write_all(&tar).map_err(|e| e.to_string())?;
        let gz = gz.finish().map_err(|e| e.to_string())?;
        layers.push(put(&gz)?);
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .map_err(|e| e.to_string())?;
    let config = put(&config)?;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config.0.to_string(), "size": config.1},
        "layers": layers.iter().map(|(d, s)| serde_json::json!({
            "mediaType": media::OCI_LAYER, "digest": d.to_string(), "size": s
        })).collect::<Vec<_>>(),
    }))
    .map_err(|e| e.to_string())?;
    let manifest = put(&manifest)?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": media::OCI_MANIFEST,
            "digest": manifest.0.to_string(),
            "size": manifest.1,
            "annotations": {"org.opencontainers.image.ref.name": "1"},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .map_err(|e| e.to_string())?;
    Ok((manifest.0, total))
}

/// Incompressible bytes from a seed (SplitMix64).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}
