//! Docker Content Trust: Notary's TUF metadata for one repository (a GUN
//! such as `localhost:5000/app`), kept in the lab's home as a Notary server
//! would keep it, with real ECDSA P-256 keys and real verification. The
//! "server" side is `<home>/notary/<gun>/` (`root.json`, `targets.json`,
//! `snapshot.json`, `timestamp.json`, and one `targets/<role>.json` per
//! delegation, `targets/releases` and `targets/<signer>`), plus the
//! server-managed snapshot and timestamp keys under `<home>/notary/keys/`.
//! The client side is docker's trust directory `<home>/docker/trust/`:
//! `private/<keyid>.key` (the private keys, encrypted under their
//! passphrase as `crate::signing` encrypts cosign's) and
//! `tuf/<gun>/metadata/root.json` (the root pinned on first use).
//! Metadata is signed over Go's canonical JSON (sorted keys, no spaces);
//! key IDs are the sha256 of the canonical TUF key object, as Notary
//! computes them. Loading a repository checks, as Notary's client does,
//! timestamp → snapshot → root / targets / delegations: every file's
//! sha256 and length against the one listing it, every signature against
//! the keys of the role that delegates it. Passphrases come through
//! [`Passphrases`], so nothing here prints.

use crate::digest::Digest;
use base64::Engine as _;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The delegation `docker push` and `docker trust sign` release into.
pub const RELEASES: &str = "targets/releases";
/// The top-level targets role (docker's "Repository Key").
pub const TARGETS: &str = "targets";
/// The root role.
pub const ROOT: &str = "root";

/// Why a trust operation failed. The texts are Notary's; `commands::trust`
/// adds docker's `NotaryError` prefixes.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// No trust data at all for the repository.
    #[error("{server} does not have trust data for {gun}")]
    RepositoryNotExist { server: String, gun: String },
    /// The tag is not signed into `targets` or `targets/releases`.
    #[error("No valid trust data for {0}")]
    NoSuchTarget(String),
    /// A role's file is not signed by enough of its keys.
    #[error("valid signatures did not meet threshold for {0}")]
    Threshold(String),
    /// A file does not hash to what the role above it lists.
    #[error("sha256 checksum for {role} did not match: expected {expected}")]
    Checksum { role: String, expected: String },
    /// The root's keys are not the ones pinned on first use.
    #[error("root key IDs do not match the trusted root for {0}")]
    RootMismatch(String),
    /// A metadata file is not JSON (docker: "no trust data available").
    #[error("invalid character in {0}")]
    Syntax(String),
    /// A private key did not decrypt with the passphrase given.
    #[error("could not decrypt key {0}")]
    Decrypt(String),
    /// No passphrase could be had (no variable, no input).
    #[error("{0}")]
    Passphrase(String),
    /// None of the delegation roles has a key we hold.
    #[error("no valid signing keys for delegation roles")]
    NoSigningKeys,
    #[error("{0}")]
    BadKey(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, TrustError>;

/// Where passphrases come from: docker's environment variables, a prompt.
/// `alias` is `root`, `targets` or a signer key's name; `create_new` asks
/// for a new key's passphrase.
pub trait Passphrases {
    fn get(&mut self, key_id: &str, alias: &str, create_new: bool) -> Result<String>;
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Go's canonical JSON (docker/go/canonical): object keys sorted, no
/// insignificant whitespace.
pub fn canonical(v: &Value) -> Vec<u8> {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sorted(v)).expect("JSON values serialize")
}

/// The TUF key object of a public key.
fn key_object(key: &VerifyingKey) -> Value {
    let der = key
        .to_public_key_der()
        .expect("a P-256 key encodes")
        .as_bytes()
        .to_vec();
    json!({"keytype": "ecdsa", "keyval": {"private": null, "public": b64().encode(der)}})
}

/// A key's ID as Notary computes it: sha256 of its canonical TUF object.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(canonical(&key_object(key))))
}

fn key_from_object(v: &Value) -> Option<VerifyingKey> {
    if v["keytype"] != "ecdsa" {
        return None;
    }
    let der = b64().decode(v["keyval"]["public"].as_str()?).ok()?;
    VerifyingKey::from_public_key_der(&der).ok()
}

/// A signer's public key file as `docker trust key generate` writes it: a
/// `PUBLIC KEY` PEM with a `role` header.
pub fn public_pem(key: &VerifyingKey, role: &str) -> String {
    let der = key.to_public_key_der().expect("a P-256 key encodes");
    let body = b64().encode(der.as_bytes());
    let mut out = format!("-----BEGIN PUBLIC KEY-----\nrole: {role}\n\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ascii"));
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out
}

/// Reads a `PUBLIC KEY` PEM (PEM headers allowed).
pub fn parse_public_pem(text: &[u8]) -> Option<VerifyingKey> {
    let body = pem_body(text, "PUBLIC KEY")?;
    VerifyingKey::from_public_key_der(&body).ok()
}

fn pem_body(text: &[u8], label: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop]
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(|l| l.split_whitespace())
        .collect();
    b64().decode(body).ok()
}

// ------------------------------------------------------------------ keys

/// The client's private key store, `<home>/docker/trust/private/`.
pub fn private_dir(home: &Path) -> PathBuf {
    home.join("docker/trust/private")
}

/// One stored private key.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub id: String,
    /// `root`, `targets`, or a signer's name.
    pub role: String,
    /// The repository a `targets` key belongs to.
    pub gun: Option<String>,
    path: PathBuf,
}

/// The keys in the store, sorted by ID.
pub fn list_keys(home: &Path) -> Vec<StoredKey> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(private_dir(home)) else {
        return out;
    };
    for e in rd.flatten() {
        let path = e.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".key"))
            .map(str::to_string)
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let header = |name: &str| {
            text.lines()
                .take_while(|l| !l.starts_with("-----"))
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .map(str::to_string)
        };
        let Some(role) = header("role") else { continue };
        out.push(StoredKey {
            id,
            role,
            gun: header("gun"),
            path,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// A new private key: random, or (with `IMAGELAB_TRUST_SEED`, for tests
/// and reproducible transcripts) derived from the seed, the role and how
/// many keys the store holds.
pub fn new_key(home: &Path, seed: Option<&str>, role: &str) -> Result<SigningKey> {
    let n = list_keys(home).len();
    for attempt in 0u32.. {
        let bytes: [u8; 32] = match seed {
            Some(seed) => {
                Sha256::digest(format!("imagelab-trust\0{seed}\0{role}\0{n}\0{attempt}")).into()
            }
            None => {
                let mut b = [0u8; 32];
                getrandom::fill(&mut b).map_err(|e| TrustError::BadKey(e.to_string()))?;
                b
            }
        };
        if let Ok(k) = SigningKey::from_slice(&bytes) {
            return Ok(k);
        }
    }
    unreachable!("some scalar is valid")
}

/// Stores `key` for `role` (and `gun`), encrypted under `passphrase`.
pub fn store_key(
    home: &Path,
    key: &SigningKey,
    role: &str,
    gun: Option<&str>,
    passphrase: &str,
) -> Result<String> {
    let id = key_id(key.verifying_key());
    let pair = crate::signing::seal_key(key, passphrase.as_bytes())
        .map_err(|e| TrustError::BadKey(e.to_string()))?;
    let mut text = format!("role: {role}\n");
    if let Some(g) = gun {
        text.push_str(&format!("gun: {g}\n"));
    }
    text.push_str(&pair.private_pem);
    let dir = private_dir(home);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{id}.key"));
    crate::home::write_atomic(&path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(id)
}

/// Reads a private key file `docker trust key load` accepts: an unencrypted
/// PKCS#8 `PRIVATE KEY` PEM, or one of the lab's own encrypted keys
/// (decrypted with `passphrase()`).
pub fn read_private(
    text: &[u8],
    passphrase: &mut dyn FnMut() -> Result<String>,
) -> Result<Option<SigningKey>> {
    if let Some(der) = pem_body(text, "PRIVATE KEY") {
        return Ok(SigningKey::from_pkcs8_der(&der).ok());
    }
    let s = String::from_utf8_lossy(text);
    if s.contains("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----") {
        let p = passphrase()?;
        return crate::signing::load_private(text, p.as_bytes())
            .map(Some)
            .map_err(|_| TrustError::Decrypt(String::new()));
    }
    Ok(None)
}

/// An unencrypted PKCS#8 PEM of `key` (the lab's snapshot and timestamp
/// keys, which a Notary server keeps itself).
fn plain_pem(key: &SigningKey) -> String {
    key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .expect("a P-256 key encodes")
        .to_string()
}

/// Keys unlocked during one operation, so each passphrase is asked once;
/// `P` answers the passphrase questions.
pub struct Keyring<P: Passphrases> {
    home: PathBuf,
    pass: P,
    unlocked: HashMap<String, SigningKey>,
}

impl<P: Passphrases> Keyring<P> {
    pub fn new(home: &Path, pass: P) -> Keyring<P> {
        Keyring {
            home: home.to_path_buf(),
            pass,
            unlocked: HashMap::new(),
        }
    }

    /// The passphrase source (the command prints through it between steps).
    pub fn pass(&mut self) -> &mut P {
        &mut self.pass
    }

    /// Creates and stores a key, asking for its new passphrase.
    pub fn create(
        &mut self,
        seed: Option<&str>,
        role: &str,
        gun: Option<&str>,
    ) -> Result<VerifyingKey> {
        let key = new_key(&self.home, seed, role)?;
        let id = key_id(key.verifying_key());
        let pass = self.pass.get(&id, role, true)?;
        store_key(&self.home, &key, role, gun, &pass)?;
        let public = *key.verifying_key();
        self.unlocked.insert(id, key);
        Ok(public)
    }

    /// The private key of `k`, asking for its passphrase once.
    pub fn unlock(&mut self, k: &StoredKey) -> Result<SigningKey> {
        if let Some(key) = self.unlocked.get(&k.id) {
            return Ok(key.clone());
        }
        let pass = self.pass.get(&k.id, &k.role, false)?;
        let pem = std::fs::read(&k.path)?;
        let key = crate::signing::load_private(&pem, pass.as_bytes())
            .map_err(|_| TrustError::Decrypt(k.id.clone()))?;
        self.unlocked.insert(k.id.clone(), key.clone());
        Ok(key)
    }
}

// ------------------------------------------------------------------ metadata

/// The Notary "server" folder of `gun`.
pub fn server_dir(home: &Path, gun: &str) -> PathBuf {
    home.join("notary").join(gun)
}

fn server_key_path(home: &Path, gun: &str, role: &str) -> PathBuf {
    home.join("notary/keys")
        .join(gun)
        .join(format!("{role}.pem"))
}

fn pinned_root(home: &Path, gun: &str) -> PathBuf {
    home.join("docker/trust/tuf")
        .join(gun)
        .join("metadata/root.json")
}

/// The trust server docker names for a registry host.
pub fn server_url(domain: &str) -> String {
    if domain == "docker.io" {
        "https://notary.docker.io".into()
    } else {
        format!("https://{domain}")
    }
}

fn file_meta(bytes: &[u8]) -> Value {
    json!({"hashes": {"sha256": b64().encode(Sha256::digest(bytes))}, "length": bytes.len()})
}

fn expires(years: i64, days: i64) -> String {
    let t = crate::home::now() + chrono::Duration::days(years * 365 + days);
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// One signed target: a tag and the manifest it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub digest: Digest,
    pub length: u64,
}

impl Target {
    fn to_json(&self) -> Value {
        let raw = hex::decode(self.digest.hex()).expect("digest hex");
        json!({"hashes": {"sha256": b64().encode(raw)}, "length": self.length})
    }

    fn from_json(name: &str, v: &Value) -> Option<Target> {
        let raw = b64().decode(v["hashes"]["sha256"].as_str()?).ok()?;
        let digest = Digest::parse(&format!("sha256:{}", hex::encode(raw))).ok()?;
        Some(Target {
            name: name.to_string(),
            digest,
            length: v["length"].as_u64().unwrap_or(0),
        })
    }
}

/// A delegation role as the targets role lists it.
#[derive(Debug, Clone)]
pub struct Delegation {
    pub name: String,
    pub key_ids: Vec<String>,
    pub threshold: usize,
}

/// A repository's verified trust data, changed in memory and written by
/// [`Repo::publish`].
pub struct Repo {
    pub gun: String,
    home: PathBuf,
    /// Role → the whole file (`signed` and `signatures`).
    docs: BTreeMap<String, Value>,
    dirty: BTreeSet<String>,
    new: bool,
}

fn read_doc(path: &Path, role: &str) -> Result<Option<(Vec<u8>, Value)>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let v: Value =
                serde_json::from_slice(&bytes).map_err(|_| TrustError::Syntax(role.into()))?;
            if !v["signed"].is_object() {
                return Err(TrustError::Syntax(role.into()));
            }
            Ok(Some((bytes, v)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Checks `doc`'s signatures: at least `threshold` distinct `key_ids` (whose
/// public keys are in `keys`) signed the canonical `signed` object.
fn verify_doc(
    doc: &Value,
    role: &str,
    keys: &Value,
    key_ids: &[String],
    threshold: usize,
) -> Result<()> {
    let msg = canonical(&doc["signed"]);
    let mut good = BTreeSet::new();
    for sig in doc["signatures"].as_array().into_iter().flatten() {
        let Some(id) = sig["keyid"].as_str() else {
            continue;
        };
        if !key_ids.iter().any(|k| k == id) || sig["method"] != "ecdsa" {
            continue;
        }
        let Some(vk) = key_from_object(&keys[id]) else {
            continue;
        };
        // A key object that does not hash to its ID is not that key.
        if key_id(&vk) != id {
            continue;
        }
        let Some(raw) = sig["sig"].as_str().and_then(|s| b64().decode(s).ok()) else {
            continue;
        };
        let Ok(signature) = Signature::from_slice(&raw) else {
            continue;
        };
        if vk.verify(&msg, &signature).is_ok() {
            good.insert(id.to_string());
        }
    }
    if good.len() >= threshold.max(1) {
        Ok(())
    } else {
        Err(TrustError::Threshold(role.into()))
    }
}

fn check_meta(bytes: &[u8], listed: &Value, role: &str) -> Result<()> {
    let want = listed["hashes"]["sha256"].as_str().unwrap_or("");
    let expected = b64()
        .decode(want)
        .map(hex::encode)
        .unwrap_or_else(|_| want.to_string());
    let got = b64().encode(Sha256::digest(bytes));
    if got != want || listed["length"].as_u64() != Some(bytes.len() as u64) {
        return Err(TrustError::Checksum {
            role: role.into(),
            expected,
        });
    }
    Ok(())
}

fn role_keys(root: &Value, role: &str) -> (Vec<String>, usize) {
    let r = &root["signed"]["roles"][role];
    let ids = r["keyids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    (ids, r["threshold"].as_u64().unwrap_or(1) as usize)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

impl Repo {
    /// Loads and verifies `gun`'s trust data (`server` names the trust
    /// server in the "no trust data" error).
    pub fn load(home: &Path, gun: &str, server: &str) -> Result<Repo> {
        let dir = server_dir(home, gun);
        let not_exist = || TrustError::RepositoryNotExist {
            server: server.to_string(),
            gun: gun.to_string(),
        };
        let Some((root_bytes, root)) = read_doc(&dir.join("root.json"), ROOT)? else {
            return Err(not_exist());
        };
        let (ids, th) = role_keys(&root, ROOT);
        verify_doc(&root, ROOT, &root["signed"]["keys"], &ids, th)?;
        // Trust on first use: the root seen first is the one trusted after.
        let pin = pinned_root(home, gun);
        match read_doc(&pin, ROOT)? {
            Some((_, pinned)) => {
                let (pinned_ids, _) = role_keys(&pinned, ROOT);
                if pinned_ids != ids {
                    return Err(TrustError::RootMismatch(gun.into()));
                }
            }
            None => {
                std::fs::create_dir_all(pin.parent().expect("pin has a parent"))?;
                crate::home::write_atomic(&pin, &root_bytes)?;
            }
        }
        let keys = &root["signed"]["keys"];
        let (_, timestamp) =
            read_doc(&dir.join("timestamp.json"), "timestamp")?.ok_or_else(not_exist)?;
        let (ids, th) = role_keys(&root, "timestamp");
        verify_doc(&timestamp, "timestamp", keys, &ids, th)?;
        let (snap_bytes, snapshot) =
            read_doc(&dir.join("snapshot.json"), "snapshot")?.ok_or_else(not_exist)?;
        check_meta(
            &snap_bytes,
            &timestamp["signed"]["meta"]["snapshot"],
            "snapshot",
        )?;
        let (ids, th) = role_keys(&root, "snapshot");
        verify_doc(&snapshot, "snapshot", keys, &ids, th)?;
        let meta = &snapshot["signed"]["meta"];
        check_meta(&root_bytes, &meta[ROOT], ROOT)?;
        let (t_bytes, targets) =
            read_doc(&dir.join("targets.json"), TARGETS)?.ok_or_else(not_exist)?;
        check_meta(&t_bytes, &meta[TARGETS], TARGETS)?;
        let (ids, th) = role_keys(&root, TARGETS);
        verify_doc(&targets, TARGETS, keys, &ids, th)?;
        let mut docs = BTreeMap::new();
        for d in delegations_of(&targets) {
            let path = dir.join(format!("{}.json", d.name));
            if let Some((bytes, doc)) = read_doc(&path, &d.name)? {
                check_meta(&bytes, &meta[d.name.as_str()], &d.name)?;
                // A delegation no longer signed by enough of its keys (its
                // signer removed) holds no valid targets, as in Notary.
                let keys = &targets["signed"]["delegations"]["keys"];
                if verify_doc(&doc, &d.name, keys, &d.key_ids, d.threshold).is_ok() {
                    docs.insert(d.name.clone(), doc);
                }
            } else if !meta[d.name.as_str()].is_null() {
                return Err(not_exist());
            }
        }
        docs.insert(ROOT.into(), root);
        docs.insert(TARGETS.into(), targets);
        docs.insert("snapshot".into(), snapshot);
        docs.insert("timestamp".into(), timestamp);
        Ok(Repo {
            gun: gun.into(),
            home: home.to_path_buf(),
            docs,
            dirty: BTreeSet::new(),
            new: false,
        })
    }

    /// A new repository: the first root key in the store (else a new one),
    /// a new targets ("repository") key, and server-made snapshot and
    /// timestamp keys. Nothing is written until [`Repo::publish`].
    pub fn init<P: Passphrases>(
        home: &Path,
        gun: &str,
        ring: &mut Keyring<P>,
        seed: Option<&str>,
    ) -> Result<Repo> {
        let root_key = match list_keys(home).into_iter().find(|k| k.role == ROOT) {
            Some(k) => *ring.unlock(&k)?.verifying_key(),
            None => ring.create(seed, ROOT, None)?,
        };
        let targets_key = ring.create(seed, TARGETS, Some(gun))?;
        let mut server = Vec::new();
        for role in ["snapshot", "timestamp"] {
            let k = new_key(
                home,
                seed.map(|s| format!("{s}/{gun}/{role}")).as_deref(),
                role,
            )?;
            let path = server_key_path(home, gun, role);
            std::fs::create_dir_all(path.parent().expect("has a parent"))?;
            crate::home::write_atomic(&path, plain_pem(&k).as_bytes())?;
            server.push(*k.verifying_key());
        }
        let mut keys = serde_json::Map::new();
        let mut roles = serde_json::Map::new();
        for (role, k) in [
            (ROOT, &root_key),
            ("snapshot", &server[0]),
            (TARGETS, &targets_key),
            ("timestamp", &server[1]),
        ] {
            let id = key_id(k);
            keys.insert(id.clone(), key_object(k));
            roles.insert(role.into(), json!({"keyids": [id], "threshold": 1}));
        }
        let root = json!({"signed": {
            "_type": "Root",
            "consistent_snapshot": false,
            "expires": expires(10, 0),
            "keys": keys,
            "roles": roles,
            "version": 0,
        }, "signatures": []});
        let targets = json!({"signed": {
            "_type": "Targets",
            "delegations": {"keys": {}, "roles": []},
            "expires": expires(3, 0),
            "targets": {},
            "version": 0,
        }, "signatures": []});
        let mut docs = BTreeMap::new();
        docs.insert(ROOT.to_string(), root);
        docs.insert(TARGETS.to_string(), targets);
        Ok(Repo {
            gun: gun.into(),
            home: home.to_path_buf(),
            docs,
            dirty: [ROOT.to_string(), TARGETS.to_string()].into(),
            new: true,
        })
    }

    pub fn root_key_ids(&self) -> Vec<String> {
        role_keys(&self.docs[ROOT], ROOT).0
    }

    pub fn targets_key_ids(&self) -> Vec<String> {
        role_keys(&self.docs[ROOT], TARGETS).0
    }

    /// The delegation roles the targets role lists.
    pub fn delegations(&self) -> Vec<Delegation> {
        delegations_of(&self.docs[TARGETS])
    }

    /// Key IDs that signed a role's current file.
    pub fn signature_key_ids(&self, role: &str) -> Vec<String> {
        self.docs
            .get(role)
            .and_then(|d| d["signatures"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|s| s["keyid"].as_str().map(str::to_string))
            .collect()
    }

    /// Every target of every role, with the role (`targets`, then the
    /// delegations in order), optionally only those named `tag`.
    pub fn all_targets(&self, tag: Option<&str>) -> Vec<(String, Target)> {
        let mut roles = vec![TARGETS.to_string()];
        roles.extend(self.delegations().into_iter().map(|d| d.name));
        let mut out = Vec::new();
        for role in roles {
            let Some(doc) = self.docs.get(&role) else {
                continue;
            };
            if let Some(m) = doc["signed"]["targets"].as_object() {
                for (name, v) in m {
                    if tag.is_some_and(|t| t != name) {
                        continue;
                    }
                    if let Some(t) = Target::from_json(name, v) {
                        out.push((role.clone(), t));
                    }
                }
            }
        }
        out
    }

    /// The tag as released: from `targets/releases`, else `targets`.
    pub fn released(&self, tag: &str) -> Option<Target> {
        [RELEASES, TARGETS].iter().find_map(|role| {
            let doc = self.docs.get(*role)?;
            Target::from_json(tag, &doc["signed"]["targets"][tag])
        })
    }

    /// Every released target (`targets/releases` first, then `targets`), one per tag.
    pub fn released_all(&self) -> Vec<Target> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for role in [RELEASES, TARGETS] {
            for (r, t) in self.all_targets(None) {
                if r == role && seen.insert(t.name.clone()) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// The roles a new target is signed into, as docker's
    /// `GetSignableRoles`: `targets` when there are no delegations, else
    /// every direct delegation of `targets` whose keys we hold.
    pub fn signable_roles(&self) -> Result<Vec<String>> {
        let dels = self.delegations();
        if dels.is_empty() {
            return Ok(vec![TARGETS.into()]);
        }
        let held: BTreeSet<String> = list_keys(&self.home).into_iter().map(|k| k.id).collect();
        let roles: Vec<String> = dels
            .into_iter()
            .filter(|d| d.name.matches('/').count() == 1)
            .filter(|d| d.key_ids.iter().any(|k| held.contains(k)))
            .map(|d| d.name)
            .collect();
        if roles.is_empty() {
            return Err(TrustError::NoSigningKeys);
        }
        Ok(roles)
    }

    fn role_doc(&mut self, role: &str) -> &mut Value {
        self.docs.entry(role.to_string()).or_insert_with(|| {
            json!({"signed": {
                "_type": "Targets",
                "delegations": {"keys": {}, "roles": []},
                "expires": expires(3, 0),
                "targets": {},
                "version": 0,
            }, "signatures": []})
        })
    }

    pub fn add_target(&mut self, t: &Target, roles: &[String]) {
        for role in roles {
            let doc = self.role_doc(role);
            doc["signed"]["targets"][t.name.as_str()] = t.to_json();
            self.dirty.insert(role.clone());
        }
    }

    /// Removes `tag` from `roles`; whether any held it.
    pub fn remove_target(&mut self, tag: &str, roles: &[String]) -> bool {
        let mut any = false;
        for role in roles {
            if let Some(doc) = self.docs.get_mut(role)
                && let Some(m) = doc["signed"]["targets"].as_object_mut()
                && m.remove(tag).is_some()
            {
                any = true;
                self.dirty.insert(role.clone());
            }
        }
        any
    }

    /// Adds `keys` to delegation `role` (made with path `""`, threshold 1).
    pub fn add_delegation(&mut self, role: &str, keys: &[VerifyingKey]) {
        let t = &mut self.docs.get_mut(TARGETS).expect("targets")["signed"]["delegations"];
        for k in keys {
            t["keys"][key_id(k).as_str()] = key_object(k);
        }
        let roles = t["roles"].as_array_mut().expect("roles array");
        let ids: Vec<String> = keys.iter().map(key_id).collect();
        match roles.iter_mut().find(|r| r["name"] == role) {
            Some(r) => {
                let mut have = strings(&r["keyids"]);
                for id in ids {
                    if !have.contains(&id) {
                        have.push(id);
                    }
                }
                r["keyids"] = json!(have);
            }
            None => roles.push(json!({
                "keyids": ids,
                "name": role,
                "paths": [""],
                "threshold": 1,
            })),
        }
        self.dirty.insert(TARGETS.into());
    }

    /// Removes `key_ids` from delegation `role`.
    pub fn remove_delegation_keys(&mut self, role: &str, key_ids: &[String]) {
        let t = &mut self.docs.get_mut(TARGETS).expect("targets")["signed"]["delegations"];
        if let Some(r) = t["roles"]
            .as_array_mut()
            .and_then(|rs| rs.iter_mut().find(|r| r["name"] == role))
        {
            let left: Vec<String> = strings(&r["keyids"])
                .into_iter()
                .filter(|k| !key_ids.contains(k))
                .collect();
            r["keyids"] = json!(left);
        }
        self.dirty.insert(TARGETS.into());
    }

    /// Removes delegation `role` and its file.
    pub fn remove_delegation(&mut self, role: &str) {
        let t = &mut self.docs.get_mut(TARGETS).expect("targets")["signed"]["delegations"];
        if let Some(rs) = t["roles"].as_array_mut() {
            rs.retain(|r| r["name"] != role);
        }
        self.docs.remove(role);
        self.dirty.remove(role);
        self.dirty.insert(TARGETS.into());
        let _ =
            std::fs::remove_file(server_dir(&self.home, &self.gun).join(format!("{role}.json")));
    }

    fn sign_role(&mut self, role: &str, signers: Vec<(String, SigningKey)>) -> Result<Vec<u8>> {
        let doc = self.docs.get_mut(role).expect("role doc");
        let v = doc["signed"]["version"].as_u64().unwrap_or(0) + 1;
        doc["signed"]["version"] = json!(v);
        let msg = canonical(&doc["signed"]);
        let sigs: Vec<Value> = signers
            .iter()
            .map(|(id, k)| {
                let s: Signature = k.sign(&msg);
                json!({"keyid": id, "method": "ecdsa", "sig": b64().encode(s.to_bytes())})
            })
            .collect();
        doc["signatures"] = json!(sigs);
        Ok(serde_json::to_vec(doc).expect("JSON serializes"))
    }

    /// Signs what changed with the keys we hold (asking for passphrases
    /// through `ring`), then a new snapshot and timestamp with the
    /// server's keys, and writes the files (the timestamp last).
    pub fn publish<P: Passphrases>(&mut self, ring: &mut Keyring<P>) -> Result<()> {
        let store = list_keys(&self.home);
        let mut written: Vec<(String, Vec<u8>)> = Vec::new();
        let dirty: Vec<String> = self.dirty.iter().cloned().collect();
        // Delegations first, then targets, then root.
        let mut order: Vec<String> = dirty
            .iter()
            .filter(|r| r.starts_with("targets/"))
            .cloned()
            .collect();
        for r in [TARGETS, ROOT] {
            if self.dirty.contains(r) {
                order.push(r.into());
            }
        }
        for role in order {
            let ids = if role == ROOT || role == TARGETS {
                role_keys(&self.docs[ROOT], &role).0
            } else {
                self.delegations()
                    .into_iter()
                    .find(|d| d.name == role)
                    .map(|d| d.key_ids)
                    .unwrap_or_default()
            };
            let mut signers = Vec::new();
            for k in store.iter().filter(|k| ids.contains(&k.id)) {
                signers.push((k.id.clone(), ring.unlock(k)?));
            }
            if signers.is_empty() {
                return Err(TrustError::NoSigningKeys);
            }
            let bytes = self.sign_role(&role, signers)?;
            written.push((role, bytes));
        }
        // Snapshot and timestamp: the server's keys.
        let dir = server_dir(&self.home, &self.gun);
        let mut meta = serde_json::Map::new();
        let mut roles: Vec<String> = vec![ROOT.into(), TARGETS.into()];
        roles.extend(self.delegations().into_iter().map(|d| d.name));
        for role in roles {
            let bytes = match written.iter().find(|(r, _)| *r == role) {
                Some((_, b)) => Some(b.clone()),
                None => std::fs::read(dir.join(format!("{role}.json"))).ok(),
            };
            if let Some(b) = bytes {
                meta.insert(role, file_meta(&b));
            }
        }
        let (home, gun) = (self.home.clone(), self.gun.clone());
        let server_key = |role: &str| -> Result<(String, SigningKey)> {
            let pem = std::fs::read_to_string(server_key_path(&home, &gun, role))?;
            let k =
                SigningKey::from_pkcs8_pem(&pem).map_err(|e| TrustError::BadKey(e.to_string()))?;
            Ok((key_id(k.verifying_key()), k))
        };
        let snap_version = self
            .docs
            .get("snapshot")
            .and_then(|d| d["signed"]["version"].as_u64())
            .unwrap_or(0);
        self.docs.insert(
            "snapshot".into(),
            json!({"signed": {"_type": "Snapshot", "expires": expires(3, 0), "meta": meta, "version": snap_version}, "signatures": []}),
        );
        let snap = self.sign_role("snapshot", vec![server_key("snapshot")?])?;
        let ts_version = self
            .docs
            .get("timestamp")
            .and_then(|d| d["signed"]["version"].as_u64())
            .unwrap_or(0);
        self.docs.insert(
            "timestamp".into(),
            json!({"signed": {"_type": "Timestamp", "expires": expires(0, 14), "meta": {"snapshot": file_meta(&snap)}, "version": ts_version}, "signatures": []}),
        );
        let ts = self.sign_role("timestamp", vec![server_key("timestamp")?])?;
        written.push(("snapshot".into(), snap));
        written.push(("timestamp".into(), ts));
        for (role, bytes) in &written {
            let path = dir.join(format!("{role}.json"));
            std::fs::create_dir_all(path.parent().expect("has a parent"))?;
            crate::home::write_atomic(&path, bytes)?;
        }
        if self.new {
            // The publisher trusts the root it made.
            let pin = pinned_root(&self.home, &self.gun);
            std::fs::create_dir_all(pin.parent().expect("has a parent"))?;
            if let Some((_, b)) = written.iter().find(|(r, _)| r == ROOT) {
                crate::home::write_atomic(&pin, b)?;
            }
            self.new = false;
        }
        self.dirty.clear();
        Ok(())
    }
}

fn delegations_of(targets: &Value) -> Vec<Delegation> {
    targets["signed"]["delegations"]["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some(Delegation {
                name: r["name"].as_str()?.to_string(),
                key_ids: strings(&r["keyids"]),
                threshold: r["threshold"].as_u64().unwrap_or(1) as usize,
            })
        })
        .collect()
}

/// Whether `gun` has trust data on the lab's trust server.
pub fn exists(home: &Path, gun: &str) -> bool {
    server_dir(home, gun).join("root.json").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_spaces() {
        let v = json!({"b": 1, "a": {"d": [1, 2], "c": null}});
        assert_eq!(
            canonical(&v),
            br#"{"a":{"c":null,"d":[1,2]},"b":1}"#.to_vec()
        );
    }

    #[test]
    fn key_ids_hash_the_canonical_key_object() {
        let k = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let vk = k.verifying_key();
        let der = vk.to_public_key_der().unwrap();
        let text = format!(
            r#"{{"keytype":"ecdsa","keyval":{{"private":null,"public":"{}"}}}}"#,
            b64().encode(der.as_bytes())
        );
        assert_eq!(key_id(vk), hex::encode(Sha256::digest(text.as_bytes())));
    }

    #[test]
    fn a_changed_signed_object_fails_its_signature() {
        let k = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let id = key_id(k.verifying_key());
        let signed = json!({"_type": "Targets", "targets": {}, "version": 1});
        let s: Signature = k.sign(&canonical(&signed));
        let mut doc = json!({"signed": signed, "signatures": [{"keyid": id, "method": "ecdsa", "sig": b64().encode(s.to_bytes())}]});
        let keys = json!({id.clone(): key_object(k.verifying_key())});
        verify_doc(&doc, "targets", &keys, std::slice::from_ref(&id), 1).unwrap();
        doc["signed"]["version"] = json!(2);
        assert!(matches!(
            verify_doc(&doc, "targets", &keys, &[id], 1),
            Err(TrustError::Threshold(_))
        ));
    }
}
