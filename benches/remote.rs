//! Issue 6's real-registry figures: pushing a ~200 MB image to a real
//! Distribution registry (`docker-registry`, Debian's package) on loopback
//! takes at most 1.2× what `skopeo copy` takes for the same image, and
//! pulling it back at most 1.2× skopeo's pull. Both sides start from
//! uncompressed layers (imagelab's store keeps layers uncompressed; skopeo
//! copies an OCI layout of the same uncompressed layers and compresses them
//! for the registry, as it does), and each round uses a fresh registry so
//! neither side can skip a blob. Rounds alternate imagelab and skopeo. Two
//! images are timed: random data (nothing to compress) and log text.
//!
//! `cargo bench --bench remote`; skipped (with a message) when skopeo or
//! docker-registry is missing. `IMAGELAB_BENCH_ROUNDS` sets the rounds.

#[path = "common/mod.rs"]
#[allow(dead_code)]
mod common;
use common::{Result, median, ratio};
use imagelab::app::Session;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark could not run: {e}");
            ExitCode::FAILURE
        }
    }
}

fn rounds() -> usize {
    common::rounds_or(5)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn line(s: &mut Session, l: &str) -> Result<()> {
    common::session_line(s, l)
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// A real Distribution registry on a fresh port and storage folder.
struct Real {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Real {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry() -> Result<Real> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port()?;
    let cfg = dir.path().join("config.yml");
    std::fs::write(
        &cfg,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new("docker-registry")
        .args(["serve", &cfg.to_string_lossy()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("docker-registry: {e}"))?;
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Real {
                child,
                port,
                _dir: dir,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("docker-registry did not start".into())
}

/// Writes an OCI layout of a stored image with its layers uncompressed.
fn oci_layout(s: &Session, name: &str, dir: &Path) -> Result<()> {
    use imagelab::digest::Digest;
    let engine = s.engine().map_err(|e| e.to_string())?;
    let img = engine.lookup(name).map_err(|e| e.to_string())?;
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(|e| e.to_string())?;
    std::fs::write(blobs.join(img.id.hex()), &img.config_bytes).map_err(|e| e.to_string())?;
    let mut layers = Vec::new();
    for d in imagelab::engine::diff_ids_of(&img.config) {
        let mut r = engine.store.open_layer(&d).map_err(|e| e.to_string())?;
        let p = blobs.join(d.hex());
        let mut f = std::fs::File::create(&p).map_err(|e| e.to_string())?;
        let n = std::io::copy(&mut r, &mut f).map_err(|e| e.to_string())?;
        layers.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d.to_string(), "size": n}));
    }
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": img.id.to_string(), "size": img.config_bytes.len()},
        "layers": layers,
    }))
    .map_err(|e| e.to_string())?;
    let md = Digest::of(&manifest);
    std::fs::write(blobs.join(md.hex()), &manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
        .map_err(|e| e.to_string())?;
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md.to_string(), "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": "bench"}}]});
    std::fs::write(dir.join("index.json"), index.to_string()).map_err(|e| e.to_string())?;
    Ok(())
}

fn skopeo(args: &[&str]) -> Result<Duration> {
    let t = Instant::now();
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .map_err(|e| format!("skopeo: {e}"))?;
    let d = t.elapsed();
    if !out.status.success() {
        return Err(format!(
            "skopeo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(d)
}

fn run() -> Result<()> {
    if !have("skopeo") || !have("docker-registry") {
        println!(
            "skipped: skopeo or docker-registry not found (apt-get install skopeo docker-registry)"
        );
        return Ok(());
    }
    figure("random data", |d| {
        common::write_noise_files(d, 8, 0x2545F4914F6CDD1D)
    })?;
    figure("log text", |d| {
        common::write_text_files(d, 8, 0x2545F4914F6CDD1D)
    })?;
    Ok(())
}

/// Push and pull figures for one ~200 MB image of 8 files in 3 layers.
fn figure(what: &str, write_files: impl Fn(&Path) -> Result<()>) -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let work = dir.path().join("work");
    write_files(&work.join("big"))?;
    std::fs::write(work.join("Dockerfile"), "FROM scratch\nCOPY big/f0.bin big/f1.bin big/f2.bin /a/\nCOPY big/f3.bin big/f4.bin big/f5.bin /b/\nCOPY big/f6.bin big/f7.bin /c/\n")
        .map_err(|e| e.to_string())?;
    let home = dir.path().join("home");
    let mut s = Session::new(home.clone(), work);
    line(&mut s, "docker build -q -t big:1 .")?;
    let layout = dir.path().join("oci");
    oci_layout(&s, "big:1", &layout)?;
    let src = format!("oci:{}:bench", layout.display());
    let (mut ours_push, mut ref_push, mut ours_pull, mut ref_pull) =
        (vec![], vec![], vec![], vec![]);
    for round in 0..rounds() {
        // imagelab: push to a fresh real registry, then pull it back.
        let real = start_registry()?;
        let host = format!("127.0.0.1:{}", real.port);
        std::fs::write(
            home.join("registries.json"),
            format!("{{\"remotes\": {{\"{host}\": \"http://{host}\"}}}}"),
        )
        .map_err(|e| e.to_string())?;
        line(&mut s, &format!("docker tag big:1 {host}/big:{round}"))?;
        let t = Instant::now();
        line(&mut s, &format!("docker push {host}/big:{round}"))?;
        ours_push.push(t.elapsed());
        // The pull goes to a fresh home (the build cache of this one would
        // keep the layers and make it a metadata-only pull), as skopeo's
        // goes to a fresh layout.
        let fresh = tempfile::tempdir().map_err(|e| e.to_string())?;
        let home2 = fresh.path().join("home");
        std::fs::create_dir_all(&home2).map_err(|e| e.to_string())?;
        std::fs::write(
            home2.join("registries.json"),
            format!("{{\"remotes\": {{\"{host}\": \"http://{host}\"}}}}"),
        )
        .map_err(|e| e.to_string())?;
        let mut s2 = Session::new(home2, fresh.path().to_path_buf());
        let t = Instant::now();
        line(&mut s2, &format!("docker pull {host}/big:{round}"))?;
        ours_pull.push(t.elapsed());
        drop(real);
        // skopeo: the same image, from uncompressed layers, to a fresh registry.
        let real = start_registry()?;
        let dest = format!("docker://127.0.0.1:{}/big:{round}", real.port);
        ref_push.push(skopeo(&[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            &src,
            &dest,
        ])?);
        let out = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out_ref = format!("oci:{}:pulled", out.path().display());
        ref_pull.push(skopeo(&[
            "copy",
            "-q",
            "--src-tls-verify=false",
            &dest,
            &out_ref,
        ])?);
        drop(real);
    }
    let (op, rp) = (median(&mut ours_push), median(&mut ref_push));
    let (ol, rl) = (median(&mut ours_pull), median(&mut ref_pull));
    let verdict = |r: f64| if r <= 1.2 { "MET" } else { "NOT MET" };
    println!(
        "push ~200 MB of {} to Distribution: imagelab {:.0} ms, skopeo copy {:.0} ms, ratio {:.2}x (target <= 1.2x) {}",
        what,
        op.as_secs_f64() * 1e3,
        rp.as_secs_f64() * 1e3,
        ratio(op, rp),
        verdict(ratio(op, rp))
    );
    println!(
        "pull it back ({}): imagelab {:.0} ms, skopeo copy {:.0} ms, ratio {:.2}x (target <= 1.2x) {}",
        what,
        ol.as_secs_f64() * 1e3,
        rl.as_secs_f64() * 1e3,
        ratio(ol, rl),
        verdict(ratio(ol, rl))
    );
    Ok(())
}
