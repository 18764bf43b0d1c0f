//! Docker Content Trust at the prompt: `docker trust key generate|load`,
//! `docker trust signer add|remove`, `docker trust sign|inspect|revoke`,
//! and the signing half of `docker push` / verifying half of `docker pull`
//! when `DOCKER_CONTENT_TRUST` is on, with docker/cli's and Notary's
//! texts and exit codes. Passphrases come from
//! `DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE` /
//! `DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE`, else from the line's
//! standard input (`< file`, one passphrase a line) after Notary's prompts.
//! The TUF work is `crate::trust`.

use crate::app::{Io, Session};
use crate::cli::{
    PushArgs, TrustCmd, TrustInspectArgs, TrustKeyCmd, TrustRevokeArgs, TrustSignArgs,
    TrustSignerAddArgs, TrustSignerCmd, TrustSignerRemoveArgs,
};
use crate::digest::Digest;
use crate::reference::Reference;
use crate::trust::{self, Keyring, Passphrases, Repo, Target, TrustError};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;

const ROOT_WARNING: &str =
    "You are about to create a new root signing key passphrase. This passphrase
will be used to protect the most sensitive key in your signing system. Please
choose a long, complex passphrase and be careful to keep the password and the
key file itself secure and backed up. It is highly recommended that you use a
password manager to generate the passphrase and keep it safe. There will be no
way to recover this key. You can find the key in your config directory.";

/// docker's test for `DOCKER_CONTENT_TRUST`: set and not a false boolean.
pub fn enabled(s: &Session) -> bool {
    match s.var("DOCKER_CONTENT_TRUST") {
        None => false,
        Some(v) if v.is_empty() => false,
        Some(v) => !matches!(v.as_str(), "0" | "f" | "F" | "false" | "FALSE" | "False"),
    }
}

/// The key seed for reproducible transcripts and tests.
fn seed(s: &Session) -> Option<String> {
    s.var("IMAGELAB_TRUST_SEED").filter(|v| !v.is_empty())
}

/// docker's passphrase retriever: the environment first, then Notary's
/// prompt (answered from the line's standard input).
pub struct Prompter<'a> {
    root: Option<String>,
    repository: Option<String>,
    lines: VecDeque<String>,
    cache: HashMap<String, String>,
    out: &'a mut dyn Write,
    /// Set when a prompt found no input.
    pub starved: bool,
}

impl<'a> Prompter<'a> {
    pub fn new(s: &mut Session, out: &'a mut dyn Write) -> Prompter<'a> {
        let lines = s
            .stdin
            .take()
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .lines()
                    .map(|l| l.trim_end_matches('\r').to_string())
                    .collect()
            })
            .unwrap_or_default();
        Prompter {
            root: s
                .var("DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE")
                .filter(|v| !v.is_empty()),
            repository: s
                .var("DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE")
                .filter(|v| !v.is_empty()),
            lines,
            cache: HashMap::new(),
            out,
            starved: false,
        }
    }

    /// A line of the command's own output between passphrase prompts.
    pub fn say(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    fn read(&mut self) -> Result<String, TrustError> {
        let line = self.lines.pop_front();
        let _ = writeln!(self.out);
        line.ok_or_else(|| {
            self.starved = true;
            TrustError::Passphrase("EOF".into())
        })
    }
}

impl Passphrases for Prompter<'_> {
    fn get(&mut self, key_id: &str, alias: &str, create_new: bool) -> Result<String, TrustError> {
        let env = if alias == trust::ROOT {
            self.root.clone()
        } else {
            self.repository.clone()
        };
        if let Some(v) = env {
            return Ok(v);
        }
        if create_new && alias == trust::ROOT {
            let _ = writeln!(self.out, "{ROOT_WARNING}");
        }
        if let Some(p) = self.cache.get(alias) {
            return Ok(p.clone());
        }
        let display = match alias {
            "targets" | "snapshot" => "repository",
            a => a,
        };
        // Notary shows the ID's first 7 characters, or nothing without one.
        let with_id = match key_id.get(..7) {
            Some(short) => format!(" with ID {short}"),
            None => String::new(),
        };
        for _ in 0..3 {
            if create_new {
                let _ = write!(
                    self.out,
                    "Enter passphrase for new {display} key{with_id}: "
                );
            } else {
                let _ = write!(self.out, "Enter passphrase for {display} key{with_id}: ");
            }
            let pass = self.read()?;
            if create_new {
                if pass.len() < 8 {
                    let _ = writeln!(
                        self.out,
                        "Passphrase is too short. Please use a password manager to generate and store a good random passphrase."
                    );
                    continue;
                }
                let _ = write!(
                    self.out,
                    "Repeat passphrase for new {display} key{with_id}: "
                );
                let again = self.read()?;
                if again != pass {
                    let _ = writeln!(self.out, "Passphrases do not match. Please retry.");
                    continue;
                }
            }
            self.cache.insert(alias.to_string(), pass.clone());
            return Ok(pass);
        }
        Err(TrustError::Passphrase("Too many attempts".into()))
    }
}

/// imagelab's own hint when a prompt found no input.
fn starved_hint(io: &mut Io) -> anyhow::Result<()> {
    writeln!(
        io.err,
        "imagelab: the REPL reads no hidden passphrase: export DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE=... and DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE=..., or give them one a line with `< file`"
    )?;
    Ok(())
}

/// docker's `trust.NotaryError`: Notary's error with docker's words.
pub fn notary_error(gun: &str, e: &TrustError) -> String {
    match e {
        TrustError::Syntax(_) => format!(
            "Error: no trust data available for remote repository {gun}. Try running notary server and setting DOCKER_CONTENT_TRUST_SERVER to its HTTPS address?"
        ),
        TrustError::RootMismatch(_) => format!(
            "Warning: potential malicious behavior - trust data mismatch for remote repository {gun}: {e}"
        ),
        TrustError::Decrypt(_) => format!(
            "Error: could not find signing keys for remote repository {gun}, or could not decrypt signing key: {e}"
        ),
        TrustError::Threshold(_) => format!(
            "Warning: potential malicious behavior - trust data has insufficient signatures for remote repository {gun}: {e}"
        ),
        TrustError::RepositoryNotExist { .. } => {
            format!("Error: remote trust data does not exist for {gun}: {e}")
        }
        other => other.to_string(),
    }
}

fn parse(io: &mut Io, name: &str) -> anyhow::Result<Option<Reference>> {
    match Reference::parse(name) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            writeln!(io.err, "{e}")?;
            Ok(None)
        }
    }
}

fn load(s: &Session, r: &Reference) -> Result<Repo, TrustError> {
    Repo::load(&s.engine_home(), &r.name(), &trust::server_url(r.domain()))
}

// ------------------------------------------------------------------ push / pull

/// After `docker push` of `tag` (manifest `digest`, `size` bytes) with
/// trust on: sign it (`PushTrustedReference`).
pub fn sign_pushed(
    s: &mut Session,
    io: &mut Io,
    r: &Reference,
    tag: &str,
    digest: &Digest,
    size: u64,
) -> anyhow::Result<i32> {
    let home = s.engine_home();
    let gun = r.name();
    let seed = seed(s);
    let target = Target {
        name: tag.to_string(),
        digest: digest.clone(),
        length: size,
    };
    let existing = load(s, r);
    let mut prompter = Prompter::new(s, &mut *io.out);
    prompter.say("Signing and pushing trust metadata");
    let mut ring = Keyring::new(&home, prompter);
    let result = (|| -> Result<(), (bool, TrustError)> {
        let mut repo = match existing {
            Ok(repo) => {
                let roles = repo.signable_roles().map_err(|e| (true, e))?;
                let mut repo = repo;
                repo.add_target(&target, &roles);
                repo
            }
            Err(TrustError::RepositoryNotExist { .. }) => {
                let mut repo =
                    Repo::init(&home, &gun, &mut ring, seed.as_deref()).map_err(|e| (false, e))?;
                ring.pass().say(&format!("Finished initializing \"{gun}\""));
                repo.add_target(&target, &[trust::TARGETS.to_string()]);
                repo
            }
            Err(e) => return Err((false, e)),
        };
        repo.publish(&mut ring).map_err(|e| (true, e))
    })();
    let starved = ring.pass().starved;
    drop(ring);
    match result {
        Ok(()) => {
            writeln!(io.out, "Successfully signed {gun}:{tag}")?;
            Ok(0)
        }
        Err((wrapped, e)) => {
            if wrapped {
                writeln!(io.err, "failed to sign {gun}:{tag}: {e}")?;
            } else {
                writeln!(io.err, "{}", notary_error(&gun, &e))?;
            }
            if starved {
                starved_hint(io)?;
            }
            Ok(1)
        }
    }
}

/// Whether a pull, push or run verifies: `--disable-content-trust[=bool]`
/// when given, else `DOCKER_CONTENT_TRUST`.
pub fn wanted(s: &Session, disable: Option<bool>) -> bool {
    disable.map(|d| !d).unwrap_or_else(|| enabled(s))
}

/// Whether `r` names one of Docker Hub's official images, which Docker
/// signs (the lab's catalog images count as signed).
pub fn official(r: &Reference) -> bool {
    r.domain() == "docker.io"
        && r.path().starts_with("library/")
        && crate::catalog::catalog()
            .images()
            .iter()
            .any(|b| b.repository == r.name())
}

/// The signed targets a trusted pull of `r` fetches (`getTrustedPullTargets`).
pub fn pull_targets(s: &Session, r: &Reference) -> Result<Vec<Target>, String> {
    let gun = r.name();
    let repo = load(s, r).map_err(|e| notary_error(&gun, &e))?;
    match r.tag() {
        Some(tag) => repo
            .released(tag)
            .map(|t| vec![t])
            .ok_or_else(|| TrustError::NoSuchTarget(tag.to_string()).to_string()),
        None => {
            let all = repo.released_all();
            if all.is_empty() {
                return Err(format!("No trusted tags for {gun}"));
            }
            Ok(all)
        }
    }
}

// ------------------------------------------------------------------ docker trust

pub fn run(s: &mut Session, cmd: Option<TrustCmd>, io: &mut Io) -> anyhow::Result<i32> {
    match cmd {
        None => {
            write!(io.out, "{}", crate::cli::TRUST_USAGE)?;
            Ok(0)
        }
        Some(TrustCmd::Key { cmd: None }) => {
            write!(io.out, "{}", crate::cli::TRUST_KEY_USAGE)?;
            Ok(0)
        }
        Some(TrustCmd::Signer { cmd: None }) => {
            write!(io.out, "{}", crate::cli::TRUST_SIGNER_USAGE)?;
            Ok(0)
        }
        Some(TrustCmd::Key {
            cmd: Some(TrustKeyCmd::Generate(a)),
        }) => key_generate(s, &a.args, a.dir.as_deref(), io),
        Some(TrustCmd::Key {
            cmd: Some(TrustKeyCmd::Load(a)),
        }) => key_load(s, &a.args, &a.name, io),
        Some(TrustCmd::Signer {
            cmd: Some(TrustSignerCmd::Add(a)),
        }) => signer_add(s, a, io),
        Some(TrustCmd::Signer {
            cmd: Some(TrustSignerCmd::Remove(a)),
        }) => signer_remove(s, a, io),
        Some(TrustCmd::Sign(a)) => sign(s, a, io),
        Some(TrustCmd::Inspect(a)) => inspect(s, a, io),
        Some(TrustCmd::Revoke(a)) => revoke(s, a, io),
    }
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn key_generate(
    s: &mut Session,
    args: &[String],
    dir: Option<&str>,
    io: &mut Io,
) -> anyhow::Result<i32> {
    let [name] = args else {
        return super::requires(
            io,
            "docker trust key generate",
            "exactly 1 argument.",
            "docker trust key generate NAME",
        );
    };
    if !valid_name(name) {
        writeln!(
            io.err,
            "key name \"{name}\" must start with lowercase alphanumeric characters and can include \"-\" or \"_\" after the first character"
        )?;
        return Ok(1);
    }
    let target_dir = match dir {
        Some(d) => super::files::confined(s, d)?,
        None => s.cwd.clone(),
    };
    if !target_dir.is_dir() {
        writeln!(
            io.err,
            "public key path does not exist: \"{}\"",
            target_dir.display()
        )?;
        return Ok(1);
    }
    let pub_path = target_dir.join(format!("{name}.pub"));
    if pub_path.exists() {
        writeln!(
            io.err,
            "public key file already exists: \"{}\"",
            pub_path.display()
        )?;
        return Ok(1);
    }
    writeln!(io.out, "Generating key for {name}...")?;
    let home = s.engine_home();
    let seed = seed(s);
    let prompter = Prompter::new(s, &mut *io.out);
    let mut ring = Keyring::new(&home, prompter);
    let made = ring.create(seed.as_deref(), name, None);
    let starved = ring.pass().starved;
    drop(ring);
    let key = match made {
        Ok(k) => k,
        Err(e) => {
            write!(io.out, "{e}")?;
            writeln!(io.err, "failed to generate key for {name}: {e}")?;
            if starved {
                starved_hint(io)?;
            }
            return Ok(1);
        }
    };
    crate::home::write_atomic(&pub_path, trust::public_pem(&key, name).as_bytes())?;
    writeln!(
        io.out,
        "Successfully generated and loaded private key. Corresponding public key available: {}",
        pub_path.display()
    )?;
    Ok(0)
}

fn key_load(s: &mut Session, args: &[String], name: &str, io: &mut Io) -> anyhow::Result<i32> {
    let [file] = args else {
        return super::requires(
            io,
            "docker trust key load",
            "exactly 1 argument.",
            "docker trust key load [OPTIONS] KEYFILE",
        );
    };
    if !name.is_empty() && !valid_name(name) {
        writeln!(
            io.err,
            "key name \"{name}\" must start with lowercase alphanumeric characters and can include \"-\" or \"_\" after the first character"
        )?;
        return Ok(1);
    }
    writeln!(io.out, "Loading key from \"{file}\"...")?;
    let path = super::files::confined(s, file)?;
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(_) => {
            writeln!(
                io.err,
                "refusing to load key from {file}: stat {file}: no such file or directory"
            )?;
            return Ok(1);
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            writeln!(
                io.err,
                "refusing to load key from {file}: private key file {file} must not be readable or writable by others"
            )?;
            return Ok(1);
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let bytes = std::fs::read(&path)?;
    let home = s.engine_home();
    let prompter = Prompter::new(s, &mut *io.out);
    let mut ring = Keyring::new(&home, prompter);
    let key = trust::read_private(&bytes, &mut || ring.pass().get("", "default", false));
    let result = match key {
        Ok(Some(key)) => {
            let id = trust::key_id(key.verifying_key());
            ring.pass()
                .get(&id, name, true)
                .and_then(|p| trust::store_key(&home, &key, name, None, &p))
                .map_err(|e| format!("error importing key from {file}: {e}"))
        }
        Ok(None) => Err(format!(
            "error importing key from {file}: provided file {file} is not a supported private key - to add a signer's public key use docker trust signer add"
        )),
        Err(_) => Err(format!(
            "error importing key from {file}: cannot load key from provided file {file}: could not decrypt key"
        )),
    };
    let starved = ring.pass().starved;
    drop(ring);
    match result {
        Ok(_) => {
            writeln!(io.out, "Successfully imported key from {file}")?;
            Ok(0)
        }
        Err(e) => {
            writeln!(io.err, "{e}")?;
            if starved {
                starved_hint(io)?;
            }
            Ok(1)
        }
    }
}

fn signer_add(s: &mut Session, a: TrustSignerAddArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() < 2 {
        return super::requires(
            io,
            "docker trust signer add",
            "at least 2 arguments.",
            "docker trust signer add OPTIONS NAME REPOSITORY [REPOSITORY...] ",
        );
    }
    let signer = &a.args[0];
    if !valid_name(signer) {
        writeln!(
            io.err,
            "signer name \"{signer}\" must start with lowercase alphanumeric characters and can include \"-\" or \"_\" after the first character"
        )?;
        return Ok(1);
    }
    if signer == "releases" {
        writeln!(
            io.err,
            "releases is a reserved keyword, use a different signer name"
        )?;
        return Ok(1);
    }
    if a.keys.is_empty() {
        writeln!(
            io.err,
            "path to a public key must be provided using the `--key` flag"
        )?;
        return Ok(1);
    }
    let mut keys = Vec::new();
    for k in &a.keys {
        let path = super::files::confined(s, k)?;
        let Ok(bytes) = std::fs::read(&path) else {
            writeln!(
                io.err,
                "unable to read public key from file: open {k}: no such file or directory"
            )?;
            return Ok(1);
        };
        let Some(key) = trust::parse_public_pem(&bytes) else {
            writeln!(
                io.err,
                "could not parse public key from file: {k}: no valid public key found"
            )?;
            return Ok(1);
        };
        keys.push(key);
    }
    let home = s.engine_home();
    let seed = seed(s);
    let mut failed = Vec::new();
    for repo_name in &a.args[1..] {
        writeln!(io.out, "Adding signer \"{signer}\" to {repo_name}...")?;
        let Some(r) = parse(io, repo_name)? else {
            failed.push(repo_name.clone());
            continue;
        };
        let gun = r.name();
        let existing = load(s, &r);
        let prompter = Prompter::new(s, &mut *io.out);
        let mut ring = Keyring::new(&home, prompter);
        let result = (|| -> Result<(), String> {
            let mut repo = match existing {
                Ok(repo) => repo,
                Err(TrustError::RepositoryNotExist { .. }) => {
                    ring.pass().say(&format!(
                        "Initializing signed repository for {repo_name}..."
                    ));
                    let mut repo = Repo::init(&home, &gun, &mut ring, seed.as_deref())
                        .map_err(|e| notary_error(repo_name, &e))?;
                    repo.publish(&mut ring)
                        .map_err(|e| notary_error(repo_name, &e))?;
                    ring.pass()
                        .say(&format!("Successfully initialized \"{repo_name}\""));
                    repo
                }
                Err(e) => return Err(notary_error(repo_name, &e)),
            };
            repo.add_delegation(&format!("targets/{signer}"), &keys);
            repo.add_delegation(trust::RELEASES, &keys);
            repo.publish(&mut ring).map_err(|e| e.to_string())
        })();
        let starved = ring.pass().starved;
        drop(ring);
        match result {
            Ok(()) => writeln!(
                io.out,
                "Successfully added signer: {signer} to {repo_name}\n"
            )?,
            Err(e) => {
                writeln!(io.err, "{e}\n")?;
                if starved {
                    starved_hint(io)?;
                }
                failed.push(repo_name.clone());
            }
        }
    }
    if !failed.is_empty() {
        writeln!(io.err, "failed to add signer to: {}", failed.join(", "))?;
        return Ok(1);
    }
    Ok(0)
}

/// cobra's `PromptForConfirmation`: `MESSAGE [y/N] `, yes only for `y`/`Y`.
fn confirm(s: &mut Session, io: &mut Io, message: &str) -> anyhow::Result<bool> {
    write!(io.out, "{message} [y/N] ")?;
    let answer = s
        .stdin
        .take()
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    Ok(matches!(answer.trim(), "y" | "Y"))
}

fn signer_remove(s: &mut Session, a: TrustSignerRemoveArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() < 2 {
        return super::requires(
            io,
            "docker trust signer remove",
            "at least 2 arguments.",
            "docker trust signer remove [OPTIONS] NAME REPOSITORY [REPOSITORY...]",
        );
    }
    let signer = a.args[0].clone();
    let home = s.engine_home();
    let mut failed = Vec::new();
    for repo_name in &a.args[1..] {
        writeln!(io.out, "Removing signer \"{signer}\" from {repo_name}...")?;
        let result = remove_one(s, io, &home, repo_name, &signer, a.force)?;
        if let Err(e) = result {
            writeln!(io.err, "{e}\n")?;
            failed.push(repo_name.clone());
        }
    }
    if !failed.is_empty() {
        writeln!(io.err, "error removing signer from: {}", failed.join(", "))?;
        return Ok(1);
    }
    Ok(0)
}

fn remove_one(
    s: &mut Session,
    io: &mut Io,
    home: &std::path::Path,
    repo_name: &str,
    signer: &str,
    force: bool,
) -> anyhow::Result<Result<(), String>> {
    let role = format!("targets/{signer}");
    if role == trust::RELEASES {
        return Ok(Err(
            "releases is a reserved keyword and cannot be removed".into()
        ));
    }
    let Some(r) = parse(io, repo_name)? else {
        return Ok(Err(format!("invalid reference: {repo_name}")));
    };
    let mut repo = match load(s, &r) {
        Ok(repo) => repo,
        Err(e) => {
            return Ok(Err(format!(
                "error retrieving signers for {repo_name}: {}",
                e
            )));
        }
    };
    let Some(del) = repo.delegations().into_iter().find(|d| d.name == role) else {
        return Ok(Err(format!(
            "no signer {signer} for repository {repo_name}"
        )));
    };
    // `isLastSignerForReleases`.
    let release_sigs = repo.signature_key_ids(trust::RELEASES);
    if release_sigs.is_empty() {
        return Ok(Err(
            "all signed tags are currently revoked, use docker trust sign to fix".into(),
        ));
    }
    let threshold = repo
        .delegations()
        .into_iter()
        .find(|d| d.name == trust::RELEASES)
        .map(|d| d.threshold)
        .unwrap_or(1);
    let left = release_sigs
        .iter()
        .filter(|k| !del.key_ids.contains(k))
        .count();
    if left < threshold && !force {
        let ok = confirm(
            s,
            io,
            &format!(
                "The signer \"{signer}\" signed the last released version of {repo_name}. Removing this signer will make {repo_name} unpullable. Are you sure you want to continue?"
            ),
        )?;
        if !ok {
            writeln!(io.out, "\nAborting action.")?;
            return Ok(Ok(()));
        }
    }
    repo.remove_delegation_keys(trust::RELEASES, &del.key_ids);
    repo.remove_delegation(&role);
    let prompter = Prompter::new(s, &mut *io.out);
    let mut ring = Keyring::new(home, prompter);
    let published = repo.publish(&mut ring);
    let starved = ring.pass().starved;
    drop(ring);
    if let Err(e) = published {
        if starved {
            starved_hint(io)?;
        }
        return Ok(Err(e.to_string()));
    }
    writeln!(io.out, "Successfully removed {signer} from {repo_name}\n")?;
    Ok(Ok(()))
}

fn local_image_exists(s: &Session, name: &str) -> anyhow::Result<bool> {
    Ok(s.engine()?.lookup(name).is_ok())
}

fn sign(s: &mut Session, a: TrustSignArgs, io: &mut Io) -> anyhow::Result<i32> {
    let [name] = a.args.as_slice() else {
        return super::requires(
            io,
            "docker trust sign",
            "exactly 1 argument.",
            "docker trust sign IMAGE:TAG",
        );
    };
    let Some(r) = parse(io, name)? else {
        return Ok(1);
    };
    let Some(tag) = r.tag().map(str::to_string) else {
        if r.digest().is_some() {
            writeln!(io.err, "cannot use a digest reference for IMAGE:TAG")?;
        } else {
            writeln!(io.err, "no tag specified for {name}")?;
        }
        return Ok(1);
    };
    let gun = r.name();
    let home = s.engine_home();
    let no_such_image = |io: &mut Io| -> anyhow::Result<i32> {
        writeln!(io.err, "Error response from daemon: No such image: {name}")?;
        Ok(1)
    };
    let mut repo = match load(s, &r) {
        Ok(repo) => Some(repo),
        Err(TrustError::RepositoryNotExist { .. }) => {
            if !local_image_exists(s, name)? {
                return no_such_image(io);
            }
            // A signer named after the registry login, as docker does.
            let user = crate::network::credentials(&home, r.domain()).map(|(u, _)| u);
            let seed = seed(s);
            let prompter = Prompter::new(s, &mut *io.out);
            let mut ring = Keyring::new(&home, prompter);
            let result = (|| -> Result<(), TrustError> {
                let mut repo = Repo::init(&home, &gun, &mut ring, seed.as_deref())?;
                if let Some(user) = &user {
                    let k = ring.create(seed.as_deref(), user, None)?;
                    repo.add_delegation(&format!("targets/{user}"), &[k]);
                    repo.add_delegation(trust::RELEASES, &[k]);
                }
                repo.publish(&mut ring)
            })();
            let starved = ring.pass().starved;
            drop(ring);
            if let Err(e) = result {
                writeln!(io.err, "{}", notary_error(&gun, &e))?;
                if starved {
                    starved_hint(io)?;
                }
                return Ok(1);
            }
            if let Some(user) = &user {
                writeln!(io.out, "Created signer: {user}")?;
            }
            writeln!(io.out, "Finished initializing signed repository for {name}")?;
            None
        }
        Err(e) => {
            writeln!(io.err, "{}", notary_error(&gun, &e))?;
            return Ok(1);
        }
    };
    let released = repo.as_ref().and_then(|r| r.released(&tag));
    let (Some(target), false) = (released, a.local) else {
        // Not signed yet (or --local): push the local image and sign it.
        if !local_image_exists(s, name)? {
            return no_such_image(io);
        }
        writeln!(
            io.err,
            "Signing and pushing trust data for local image {name}, may overwrite remote trust data"
        )?;
        let push = PushArgs {
            all_tags: false,
            quiet: false,
            disable_content_trust: Some(false),
            args: vec![name.clone()],
        };
        return super::push::run(s, push, io);
    };
    let mut repo = repo.take().expect("a released target has a repository");
    writeln!(io.out, "Signing and pushing trust metadata for {name}")?;
    let mut signers: Vec<String> = repo
        .all_targets(Some(&tag))
        .into_iter()
        .filter(|(role, t)| {
            role != trust::TARGETS && role != trust::RELEASES && t.digest == target.digest
        })
        .map(|(role, _)| role.trim_start_matches("targets/").to_string())
        .collect();
    signers.sort();
    let roles = match repo.signable_roles() {
        Ok(roles) => roles,
        Err(e) => {
            writeln!(io.err, "failed to sign {gun}:{tag}: {e}")?;
            return Ok(1);
        }
    };
    repo.add_target(&target, &roles);
    writeln!(
        io.out,
        "Existing signatures for tag {tag} digest {} from:\n{}",
        target.digest.hex(),
        signers.join(", ")
    )?;
    let prompter = Prompter::new(s, &mut *io.out);
    let mut ring = Keyring::new(&home, prompter);
    let published = repo.publish(&mut ring);
    let starved = ring.pass().starved;
    drop(ring);
    if let Err(e) = published {
        writeln!(io.err, "failed to sign {gun}:{tag}: {e}")?;
        if starved {
            starved_hint(io)?;
        }
        return Ok(1);
    }
    writeln!(io.out, "Successfully signed {gun}:{tag}")?;
    Ok(0)
}

/// One row of signed tags: a released tag and digest, and who signed it.
struct Row {
    tag: String,
    digest: String,
    signers: Vec<String>,
}

/// `lookupTrustInfo` + `matchReleasedSignatures`.
fn lookup(s: &Session, remote: &str) -> Result<(Vec<Row>, Repo), String> {
    let r = Reference::parse(remote).map_err(|e| e.to_string())?;
    let repo = load(s, &r).map_err(|_| format!("no signatures or cannot access {remote}"))?;
    let all = repo.all_targets(r.tag());
    let released = |role: &str| role == trust::TARGETS || role == trust::RELEASES;
    let mut rows: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (role, t) in &all {
        if released(role) {
            rows.entry((t.name.clone(), t.digest.hex().to_string()))
                .or_default();
        }
    }
    for (role, t) in &all {
        if released(role) {
            continue;
        }
        if let Some(v) = rows.get_mut(&(t.name.clone(), t.digest.hex().to_string())) {
            v.push(role.trim_start_matches("targets/").to_string());
        }
    }
    let rows = rows
        .into_iter()
        .map(|((tag, digest), mut signers)| {
            signers.sort();
            Row {
                tag,
                digest,
                signers,
            }
        })
        .collect();
    Ok((rows, repo))
}

/// Signers (not `releases`) and their key IDs, by name.
fn signer_keys(repo: &Repo) -> BTreeMap<String, Vec<String>> {
    repo.delegations()
        .into_iter()
        .filter(|d| d.name != trust::RELEASES)
        .map(|d| {
            let mut keys = d.key_ids;
            keys.sort();
            (d.name.trim_start_matches("targets/").to_string(), keys)
        })
        .collect()
}

fn table(header: &str, lines: &[String]) -> String {
    use std::io::Write as _;
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(10 - 3)
        .padding(3);
    let _ = writeln!(tw, "{header}");
    for l in lines {
        let _ = writeln!(tw, "{l}");
    }
    let _ = tw.flush();
    String::from_utf8_lossy(&tw.into_inner().unwrap_or_default()).into_owned()
}

fn inspect(s: &mut Session, a: TrustInspectArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.is_empty() {
        return super::requires(
            io,
            "docker trust inspect",
            "at least 1 argument.",
            "docker trust inspect IMAGE[:TAG] [IMAGE[:TAG]...]",
        );
    }
    if a.pretty {
        for (i, remote) in a.args.iter().enumerate() {
            let (rows, repo) = match lookup(s, remote) {
                Ok(x) => x,
                Err(e) => {
                    writeln!(io.err, "{e}")?;
                    return Ok(1);
                }
            };
            if rows.is_empty() {
                write!(io.out, "\nNo signatures for {remote}\n\n")?;
            } else {
                write!(io.out, "\nSignatures for {remote}\n\n")?;
                let lines: Vec<String> = rows
                    .iter()
                    .map(|r| {
                        let signers = if r.signers.is_empty() {
                            "(Repo Admin)".to_string()
                        } else {
                            r.signers.join(", ")
                        };
                        format!("{}\t{}\t{}", r.tag, r.digest, signers)
                    })
                    .collect();
                write!(io.out, "{}", table("SIGNED TAG\tDIGEST\tSIGNERS", &lines))?;
            }
            let signers = signer_keys(&repo);
            if !signers.is_empty() {
                write!(io.out, "\nList of signers and their keys for {remote}\n\n")?;
                let lines: Vec<String> = signers
                    .iter()
                    .map(|(name, keys)| {
                        let short: Vec<&str> = keys.iter().map(|k| &k[..12.min(k.len())]).collect();
                        format!("{name}\t{}", short.join(", "))
                    })
                    .collect();
                write!(io.out, "{}", table("SIGNER\tKEYS", &lines))?;
            }
            write!(io.out, "\nAdministrative keys for {remote}\n\n")?;
            let mut t = repo.targets_key_ids();
            t.sort();
            let mut root = repo.root_key_ids();
            root.sort();
            writeln!(io.out, "  Repository Key:\t{}", t.join(", "))?;
            writeln!(io.out, "  Root Key:\t{}", root.join(", "))?;
            if i + 1 < a.args.len() {
                write!(io.out, "\n\n")?;
            }
        }
        return Ok(0);
    }
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for remote in &a.args {
        match lookup(s, remote) {
            Ok((rows, repo)) => {
                let tags: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        let signers = if r.signers.is_empty() {
                            vec!["Repo Admin".to_string()]
                        } else {
                            r.signers.clone()
                        };
                        serde_json::json!({"SignedTag": r.tag, "Digest": r.digest, "Signers": signers})
                    })
                    .collect();
                let mut signers: Vec<serde_json::Value> = signer_keys(&repo)
                    .into_iter()
                    .rev()
                    .map(|(name, keys)| {
                        let keys: Vec<_> =
                            keys.iter().map(|k| serde_json::json!({"ID": k})).collect();
                        serde_json::json!({"Name": name, "Keys": keys})
                    })
                    .collect();
                signers.retain(|v| !v.is_null());
                let keys = |ids: Vec<String>| -> Vec<serde_json::Value> {
                    ids.iter().map(|k| serde_json::json!({"ID": k})).collect()
                };
                objects.push(serde_json::json!({
                    "Name": remote,
                    "SignedTags": tags,
                    "Signers": signers,
                    "AdministrativeKeys": [
                        {"Name": "Root", "Keys": keys(repo.root_key_ids())},
                        {"Name": "Repository", "Keys": keys(repo.targets_key_ids())},
                    ],
                }));
            }
            Err(e) => errors.push(e),
        }
    }
    if !objects.is_empty() || errors.is_empty() {
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&serde_json::Value::Array(objects), &mut ser)?;
        io.out.write_all(&buf)?;
        writeln!(io.out)?;
    }
    if !errors.is_empty() {
        writeln!(io.err, "{}", errors.join("\n"))?;
        return Ok(1);
    }
    Ok(0)
}

fn revoke(s: &mut Session, a: TrustRevokeArgs, io: &mut Io) -> anyhow::Result<i32> {
    let [remote] = a.args.as_slice() else {
        return super::requires(
            io,
            "docker trust revoke",
            "exactly 1 argument.",
            "docker trust revoke [OPTIONS] IMAGE[:TAG]",
        );
    };
    let Some(r) = parse(io, remote)? else {
        return Ok(1);
    };
    if r.tag().is_none() && r.digest().is_some() {
        writeln!(io.err, "cannot use a digest reference for IMAGE:TAG")?;
        return Ok(1);
    }
    if r.tag().is_none()
        && !a.yes
        && !confirm(
            s,
            io,
            &format!("Confirm you would like to delete all signature data for {remote}?"),
        )?
    {
        writeln!(io.err, "trust revoke has been cancelled")?;
        return Ok(1);
    }
    let home = s.engine_home();
    let fail = |io: &mut Io, e: &dyn std::fmt::Display| -> anyhow::Result<i32> {
        writeln!(io.err, "could not remove signature for {remote}: {e}")?;
        Ok(1)
    };
    let mut repo = match load(s, &r) {
        Ok(repo) => repo,
        Err(e) => return fail(io, &e),
    };
    let targets: Vec<Target> = match r.tag() {
        Some(tag) => match repo.released(tag) {
            Some(t) => vec![t],
            None => return fail(io, &TrustError::NoSuchTarget(tag.to_string())),
        },
        None => {
            let all = repo.released_all();
            if all.is_empty() {
                return fail(io, &"no signed tags to remove");
            }
            all
        }
    };
    let roles = match repo.signable_roles() {
        Ok(r) => r,
        Err(e) => return fail(io, &e),
    };
    for t in &targets {
        repo.remove_target(&t.name, &roles);
    }
    let prompter = Prompter::new(s, &mut *io.out);
    let mut ring = Keyring::new(&home, prompter);
    let published = repo.publish(&mut ring);
    let starved = ring.pass().starved;
    drop(ring);
    if let Err(e) = published {
        fail(io, &e)?;
        if starved {
            starved_hint(io)?;
        }
        return Ok(1);
    }
    writeln!(io.out, "Successfully deleted signature for {remote}")?;
    Ok(0)
}
