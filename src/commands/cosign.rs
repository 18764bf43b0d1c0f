//! The REPL's `cosign` (2.x, key-pair mode): `generate-key-pair`, `sign`,
//! `verify` and `triangulate`, over the registries `network::route`
//! reaches, with cosign's messages and exit codes (10: no signatures, 12:
//! none matching). The lab has no transparency log: `sign` stores
//! signatures as `--tlog-upload=false` does and says so when the flag was
//! not given; `verify` needs `--insecure-ignore-tlog` as cosign does for
//! such signatures. The signing itself is `crate::signing`.

use crate::app::{Io, Session};
use crate::reference::Reference;
use crate::registry::RefSpec;
use crate::signing::{self, SignError};

/// The parsed words after `cosign SUBCOMMAND`.
#[derive(Default)]
struct Args {
    key: Option<String>,
    yes: bool,
    tlog_upload: Option<bool>,
    ignore_tlog: bool,
    output: Option<String>,
    positional: Vec<String>,
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "1" | "t" | "T" | "TRUE" | "True" => Some(true),
        "false" | "0" | "f" | "F" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn parse_args(words: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if w.starts_with('-') => (f, Some(v.to_string())),
            _ => (w, None),
        };
        let value = |i: &mut usize| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            *i += 1;
            words
                .get(*i)
                .cloned()
                .ok_or_else(|| format!("flag needs an argument: {flag}"))
        };
        let boolean = |inline: &Option<String>| -> Result<bool, String> {
            match inline {
                None => Ok(true),
                Some(v) => parse_bool(v).ok_or_else(|| {
                    format!(
                        "invalid argument \"{v}\" for \"{flag}\" flag: strconv.ParseBool: parsing \"{v}\": invalid syntax"
                    )
                }),
            }
        };
        match flag {
            "--key" => a.key = Some(value(&mut i)?),
            "-y" | "--yes" => a.yes = boolean(&inline)?,
            "--tlog-upload" => a.tlog_upload = Some(boolean(&inline)?),
            "--insecure-ignore-tlog" => a.ignore_tlog = boolean(&inline)?,
            "-o" | "--output" => a.output = Some(value(&mut i)?),
            "--allow-insecure-registry" | "--allow-http-registry" => {
                boolean(&inline)?;
            }
            f if f.starts_with('-') => return Err(format!("unknown flag: {f}")),
            _ => a.positional.push(w.to_string()),
        }
        i += 1;
    }
    Ok(a)
}

/// cobra's error line, then cosign's own, with the exit code.
fn fail(io: &mut Io, message: &str, code: i32) -> anyhow::Result<i32> {
    writeln!(io.err, "Error: {message}")?;
    writeln!(io.err, "error during command execution: {message}")?;
    Ok(code)
}

/// `cosign ...`.
pub fn run(s: &mut Session, words: &[String], io: &mut Io) -> anyhow::Result<i32> {
    let Some(sub) = words.get(1).map(String::as_str) else {
        writeln!(
            io.out,
            "A tool for Container Signing, Verification and Storage in an OCI registry.\n\nUsage:\n  cosign [command]\n\nAvailable Commands (in the lab):\n  generate-key-pair Generates a key-pair.\n  sign              Sign the supplied container image.\n  triangulate       Outputs the located cosign image reference. This is the location where cosign stores the specified artifact type.\n  verify            Verify a signature on the supplied container image"
        )?;
        return Ok(0);
    };
    let a = match parse_args(&words[2..]) {
        Ok(a) => a,
        Err(e) => return fail(io, &e, 1),
    };
    match sub {
        "generate-key-pair" => generate(s, a, io),
        "sign" => sign(s, a, io),
        "verify" => verify(s, a, io),
        "triangulate" => triangulate(s, a, io),
        other => {
            writeln!(io.err, "Error: unknown command \"{other}\" for \"cosign\"")?;
            writeln!(io.err, "Run 'cosign --help' for usage.")?;
            Ok(1)
        }
    }
}

/// The key's password: `COSIGN_PASSWORD`, else standard input (`< file`,
/// or the process's own when it is not the REPL), as cosign reads a piped
/// password.
fn password(s: &mut Session) -> Option<Vec<u8>> {
    if let Some(p) = s.var("COSIGN_PASSWORD") {
        return Some(p.into_bytes());
    }
    s.read_stdin().map(|mut b| {
        while b.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            b.pop();
        }
        b
    })
}

fn no_password(io: &mut Io) -> anyhow::Result<i32> {
    writeln!(
        io.err,
        "imagelab: the REPL reads no hidden password: export COSIGN_PASSWORD=... first (empty is allowed)"
    )?;
    Ok(1)
}

fn generate(s: &mut Session, a: Args, io: &mut Io) -> anyhow::Result<i32> {
    if !a.positional.is_empty() {
        return fail(io, "could not parse scheme, use <scheme>://<ref> format", 1);
    }
    let from_env = s.var("COSIGN_PASSWORD").is_some();
    let Some(pw) = password(s) else {
        return no_password(io);
    };
    let keys = signing::generate(&pw)?;
    let key_path = super::files::confined(s, "cosign.key")?;
    let pub_path = super::files::confined(s, "cosign.pub")?;
    if key_path.is_file() {
        write!(io.err, "File cosign.key already exists. Overwrite (y/n)? ")?;
        // The answer is the next word of standard input (none when the
        // password took it, or in the REPL without `< file`).
        let answer = if from_env {
            s.read_stdin()
                .and_then(|b| {
                    String::from_utf8_lossy(&b)
                        .split_whitespace()
                        .next()
                        .map(str::to_string)
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        match answer.as_str() {
            "y" | "Y" => {}
            "n" | "N" => return Ok(0),
            _ => {
                writeln!(io.err, "Invalid input")?;
                return Ok(0);
            }
        }
    }
    write_mode(&key_path, keys.private_pem.as_bytes(), 0o600)?;
    writeln!(io.err, "Private key written to cosign.key")?;
    write_mode(&pub_path, keys.public_pem.as_bytes(), 0o644)?;
    writeln!(io.err, "Public key written to cosign.pub")?;
    Ok(0)
}

fn write_mode(path: &std::path::Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    std::fs::write(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

/// An image reference as cosign reads it, with its registry.
struct Target {
    reference: Reference,
    route: crate::network::Route,
    /// `localhost:5000/app` (`index.docker.io/...` for the Hub).
    repository: String,
}

fn parse_image(image: &str) -> Result<Reference, String> {
    Reference::parse(image)
        .map_err(|e| format!("parsing reference: could not parse reference: {image}: {e}"))
}

fn target(s: &Session, reference: Reference) -> Result<Target, String> {
    let route =
        crate::network::route(&s.engine_home(), reference.domain()).map_err(|e| e.to_string())?;
    let repository = signing::repository_name(reference.domain(), reference.path());
    Ok(Target {
        reference,
        route,
        repository,
    })
}

impl Target {
    /// The reference as go-containerregistry names it (`:latest` added).
    fn name(&self) -> String {
        match (self.reference.digest(), self.reference.tag()) {
            (Some(d), _) => format!("{}@{d}", self.repository),
            (None, Some(t)) => format!("{}:{t}", self.repository),
            (None, None) => format!("{}:latest", self.repository),
        }
    }

    fn refspec(&self) -> RefSpec {
        match (self.reference.digest(), self.reference.tag()) {
            (Some(d), _) => RefSpec::Digest(d.clone()),
            (None, t) => RefSpec::Tag(t.unwrap_or("latest").to_string()),
        }
    }

    fn resolve(&self) -> Result<crate::digest::Digest, SignError> {
        signing::resolve(
            self.route.registry.as_ref(),
            self.reference.path(),
            &self.refspec(),
        )
    }
}

/// The message for a registry failure while resolving the image.
fn entity_error(e: SignError) -> String {
    match e {
        SignError::Registry(r)
            if matches!(
                r.spec_code(),
                Some(crate::registry::Code::ManifestUnknown | crate::registry::Code::NameUnknown)
            ) =>
        {
            "entity not found in registry".to_string()
        }
        other => other.to_string(),
    }
}

fn sign(s: &mut Session, a: Args, io: &mut Io) -> anyhow::Result<i32> {
    if a.positional.is_empty() {
        return fail(io, "accepts at least 1 arg(s), received 0", 1);
    }
    let Some(key_ref) = a.key.clone() else {
        writeln!(
            io.err,
            "imagelab: keyless signing needs Fulcio, Rekor and an OIDC login, which the offline lab does not have: sign with --key cosign.key"
        )?;
        return Ok(1);
    };
    let args = format!("[{}]", a.positional.join(" "));
    for image in &a.positional {
        let reference = match parse_image(image) {
            Ok(r) => r,
            Err(e) => return fail(io, &format!("signing {args}: {e}"), 1),
        };
        if reference.digest().is_none() {
            writeln!(
                io.err,
                "WARNING: Image reference {image} uses a tag, not a digest, to identify the image to sign.\n    This can lead you to sign a different image than the intended one. Please use a\n    digest (example.com/ubuntu@sha256:abc123...) rather than tag\n    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to\n    images by tag will be removed in a future release.\n"
            )?;
        }
        // As cosign: the registry first, then the key.
        let t = match target(s, reference) {
            Ok(t) => t,
            Err(e) => return fail(io, &format!("signing {args}: accessing entity: {e}"), 1),
        };
        let digest = match t.resolve() {
            Ok(d) => d,
            Err(e) => {
                return fail(
                    io,
                    &format!("signing {args}: accessing entity: {}", entity_error(e)),
                    1,
                );
            }
        };
        let key_path = super::files::confined(s, &key_ref)?;
        let pem = match std::fs::read(&key_path) {
            Ok(b) => b,
            Err(e) => {
                return fail(
                    io,
                    &format!(
                        "signing {args}: getting signer: reading key: open {key_ref}: {}",
                        go_io_error(&e)
                    ),
                    1,
                );
            }
        };
        let Some(pw) = password(s) else {
            return no_password(io);
        };
        let key = match signing::load_private(&pem, &pw) {
            Ok(k) => k,
            Err(e) => {
                return fail(
                    io,
                    &format!("signing {args}: getting signer: reading key: {e}"),
                    1,
                );
            }
        };
        if a.tlog_upload != Some(false) {
            writeln!(
                io.err,
                "imagelab: there is no transparency log (Rekor) offline: the signature is not uploaded, as with --tlog-upload=false"
            )?;
        }
        writeln!(io.err, "Pushing signature to: {}", t.repository)?;
        if let Err(e) = signing::sign(
            t.route.registry.as_ref(),
            t.reference.path(),
            &t.repository,
            &digest,
            &key,
        ) {
            return fail(io, &format!("signing {args}: {e}"), 1);
        }
    }
    Ok(0)
}

/// Go's words for a failed open.
fn go_io_error(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory",
        std::io::ErrorKind::PermissionDenied => "permission denied",
        _ => "input/output error",
    }
}

fn verify(s: &mut Session, a: Args, io: &mut Io) -> anyhow::Result<i32> {
    if a.positional.is_empty() {
        return fail(io, "accepts at least 1 arg(s), received 0", 1);
    }
    let Some(key_ref) = a.key.clone() else {
        return fail(
            io,
            "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode",
            1,
        );
    };
    if a.ignore_tlog {
        writeln!(
            io.err,
            "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature."
        )?;
    }
    let key_path = super::files::confined(s, &key_ref)?;
    let key = match std::fs::read(&key_path)
        .map_err(|e| format!("open {key_ref}: {}", go_io_error(&e)))
        .and_then(|b| signing::load_public(&b).map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => return fail(io, &format!("loading public key: {e}"), 1),
    };
    for image in &a.positional {
        let t = match parse_image(image).and_then(|r| target(s, r)) {
            Ok(t) => t,
            Err(e) => return fail(io, &e, 1),
        };
        let digest = match t.resolve() {
            Ok(d) => d,
            Err(SignError::Registry(r))
                if matches!(
                    r.spec_code(),
                    Some(
                        crate::registry::Code::ManifestUnknown | crate::registry::Code::NameUnknown
                    )
                ) =>
            {
                return fail(io, "image tag not found", 11);
            }
            Err(e) => return fail(io, &e.to_string(), 1),
        };
        let payloads =
            match signing::verify(t.route.registry.as_ref(), t.reference.path(), &digest, &key) {
                Ok(p) => p,
                Err(SignError::NoSignatures) => return fail(io, "no signatures found", 10),
                Err(e @ SignError::NoMatching(_)) => return fail(io, &e.to_string(), 12),
                Err(e) => return fail(io, &e.to_string(), 1),
            };
        if !a.ignore_tlog {
            // Key-signed, never uploaded: cosign finds no log entry for them.
            return fail(
                io,
                "no matching signatures: signature not found in transparency log",
                12,
            );
        }
        writeln!(io.err, "\nVerification for {} --", t.name())?;
        writeln!(
            io.err,
            "The following checks were performed on each of these signatures:"
        )?;
        writeln!(io.err, "  - The cosign claims were validated")?;
        writeln!(
            io.err,
            "  - The signatures were verified against the specified public key"
        )?;
        if a.output.as_deref() == Some("text") {
            for p in &payloads {
                writeln!(io.out, "{}", String::from_utf8_lossy(p))?;
            }
        } else {
            let values: Vec<serde_json::Value> = payloads
                .iter()
                .filter_map(|p| serde_json::from_slice(p).ok())
                .collect();
            writeln!(io.out, "\n{}", serde_json::to_string(&values)?)?;
        }
    }
    Ok(0)
}

fn triangulate(s: &mut Session, a: Args, io: &mut Io) -> anyhow::Result<i32> {
    if a.positional.len() != 1 {
        return fail(
            io,
            &format!("accepts 1 arg(s), received {}", a.positional.len()),
            1,
        );
    }
    let t = match parse_image(&a.positional[0]).and_then(|r| target(s, r)) {
        Ok(t) => t,
        Err(e) => return fail(io, &e, 1),
    };
    let digest = match t.resolve() {
        Ok(d) => d,
        Err(e) => return fail(io, &entity_error(e), 1),
    };
    writeln!(
        io.out,
        "{}:{}",
        t.repository,
        signing::signature_tag(&digest)
    )?;
    Ok(0)
}
