//! Image signing as cosign does it with a key pair, over any [`Registry`]:
//! ECDSA P-256 keys (the private one encrypted with scrypt and NaCl
//! secretbox, in cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` PEM), the
//! "simple signing" payload naming the manifest digest, and the signature
//! stored beside the image as an OCI manifest tagged `sha256-<hex>.sig`
//! whose layers are payloads carrying the base64 signature in an
//! annotation. There is no transparency log (Rekor) here: signatures are
//! made and checked as cosign's `--tlog-upload=false` and
//! `--insecure-ignore-tlog` do. Nothing here prints.

use crate::digest::Digest;
use crate::registry::{Code, RefSpec, Registry, RegistryError, media};
use base64::Engine as _;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};

/// The media type of a signature layer (the payload).
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// The layer annotation holding the base64 DER signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// The `type` of cosign's simple-signing payload.
pub const PAYLOAD_TYPE: &str = "cosign container image signature";

const PRIVATE_PEM_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// scrypt's cost as go-securesystemslib's `encrypted` package sets it
/// (N = 2^15, r = 8, p = 1).
const SCRYPT_LOG_N: u8 = 15;

/// Why signing or verifying failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The private key did not decrypt (wrong password or damaged file).
    #[error("decrypt: encrypted: decryption failed")]
    Decrypt,
    /// A key file is not a key cosign reads.
    #[error("{0}")]
    BadKey(String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// No `.sig` manifest for the digest.
    #[error("no signatures found")]
    NoSignatures,
    /// Signatures exist, none verifies.
    #[error("no matching signatures: {0}")]
    NoMatching(String),
    #[error("{0}")]
    Random(String),
}

/// A key pair as `cosign generate-key-pair` writes it.
pub struct KeyPair {
    /// `cosign.key`.
    pub private_pem: String,
    /// `cosign.pub`.
    pub public_pem: String,
}

/// The JSON inside cosign's encrypted private key PEM.
#[derive(serde::Serialize, serde::Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[allow(non_snake_case)]
struct ScryptParams {
    N: u64,
    r: u32,
    p: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn random<const N: usize>() -> Result<[u8; N], SignError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| SignError::Random(e.to_string()))?;
    Ok(b)
}

fn secretbox_key(
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<[u8; 32], SignError> {
    let params = scrypt::Params::new(log_n, r, p).map_err(|e| SignError::BadKey(e.to_string()))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key)
        .map_err(|e| SignError::BadKey(e.to_string()))?;
    Ok(key)
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = b64().encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn unpem(label: &str, text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop].split_whitespace().collect();
    b64().decode(body).ok()
}

/// A new P-256 key pair; the private key encrypted under `password`.
pub fn generate(password: &[u8]) -> Result<KeyPair, SignError> {
    let key = loop {
        // A random scalar; the rare value outside the field is drawn again.
        if let Ok(k) = SigningKey::from_slice(&random::<32>()?) {
            break k;
        }
    };
    seal_key(&key, password)
}

/// `key` as a cosign key pair, the private half encrypted under `password`
/// (also the at-rest form of Docker Content Trust's keys, `crate::trust`).
pub fn seal_key(key: &SigningKey, password: &[u8]) -> Result<KeyPair, SignError> {
    let der = key
        .to_pkcs8_der()
        .map_err(|e| SignError::BadKey(e.to_string()))?;
    let salt = random::<32>()?;
    let nonce = random::<24>()?;
    let sealed = seal(password, &salt, &nonce, der.as_bytes())?;
    let doc = Encrypted {
        kdf: Kdf {
            name: "scrypt".into(),
            params: ScryptParams {
                N: 1 << SCRYPT_LOG_N,
                r: 8,
                p: 1,
            },
            salt: b64().encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: b64().encode(nonce),
        },
        ciphertext: b64().encode(sealed),
    };
    let json = serde_json::to_vec(&doc).map_err(|e| SignError::BadKey(e.to_string()))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| SignError::BadKey(e.to_string()))?;
    Ok(KeyPair {
        private_pem: pem(PRIVATE_PEM_LABEL, &json),
        public_pem: public,
    })
}

fn seal(
    password: &[u8],
    salt: &[u8],
    nonce: &[u8; 24],
    plain: &[u8],
) -> Result<Vec<u8>, SignError> {
    use crypto_secretbox::aead::{Aead, KeyInit};
    let key = secretbox_key(password, salt, SCRYPT_LOG_N, 8, 1)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    cipher
        .encrypt(nonce.into(), plain)
        .map_err(|_| SignError::BadKey("encrypt failed".into()))
}

/// Reads `cosign.key` with its password.
pub fn load_private(pem_bytes: &[u8], password: &[u8]) -> Result<SigningKey, SignError> {
    use crypto_secretbox::aead::{Aead, KeyInit};
    let json = unpem(PRIVATE_PEM_LABEL, pem_bytes)
        .ok_or_else(|| SignError::BadKey("unsupported pem type".into()))?;
    let doc: Encrypted =
        serde_json::from_slice(&json).map_err(|e| SignError::BadKey(format!("decrypt: {e}")))?;
    let log_n = doc.kdf.params.N.trailing_zeros() as u8;
    if doc.kdf.name != "scrypt" || doc.kdf.params.N != 1u64 << log_n {
        return Err(SignError::BadKey("decrypt: unsupported kdf".into()));
    }
    let salt = b64()
        .decode(&doc.kdf.salt)
        .map_err(|_| SignError::Decrypt)?;
    let nonce: [u8; 24] = b64()
        .decode(&doc.cipher.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or(SignError::Decrypt)?;
    let sealed = b64()
        .decode(&doc.ciphertext)
        .map_err(|_| SignError::Decrypt)?;
    let key = secretbox_key(password, &salt, log_n, doc.kdf.params.r, doc.kdf.params.p)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    let der = cipher
        .decrypt(&nonce.into(), sealed.as_slice())
        .map_err(|_| SignError::Decrypt)?;
    SigningKey::from_pkcs8_der(&der)
        .map_err(|e| SignError::BadKey(format!("parsing private key: {e}")))
}

/// Reads `cosign.pub` (an SPKI `PUBLIC KEY` PEM).
pub fn load_public(pem_bytes: &[u8]) -> Result<VerifyingKey, SignError> {
    let text = std::str::from_utf8(pem_bytes)
        .map_err(|_| SignError::BadKey("PEM decoding failed".into()))?;
    VerifyingKey::from_public_key_pem(text.trim())
        .map_err(|_| SignError::BadKey("PEM decoding failed".into()))
}

/// The repository name as cosign (go-containerregistry) spells it:
/// Docker Hub is `index.docker.io`.
pub fn repository_name(domain: &str, path: &str) -> String {
    let domain = if domain == "docker.io" {
        "index.docker.io"
    } else {
        domain
    };
    format!("{domain}/{path}")
}

/// The tag a digest's signatures live under: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &Digest) -> String {
    format!("sha256-{}.sig", digest.hex())
}

/// The simple-signing payload for `digest` in repository `docker_reference`.
pub fn payload(docker_reference: &str, digest: &Digest) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest.to_string()},
            "type": PAYLOAD_TYPE,
        },
        "optional": null,
    }))
    .expect("payload serialises")
}

/// The digest a tag (or digest) names in the registry.
pub fn resolve(reg: &dyn Registry, repo: &str, reference: &RefSpec) -> Result<Digest, SignError> {
    Ok(reg.get_manifest(repo, reference)?.digest)
}

/// One signature layer of a `.sig` manifest.
#[derive(Clone, Debug)]
struct SigLayer {
    digest: Digest,
    size: u64,
    signature: String,
}

fn sig_layers(manifest: &[u8]) -> Vec<SigLayer> {
    let v: serde_json::Value = serde_json::from_slice(manifest).unwrap_or_default();
    v.get("layers")
        .and_then(|l| l.as_array())
        .into_iter()
        .flatten()
        .filter(|l| l.get("mediaType").and_then(|m| m.as_str()) == Some(SIMPLE_SIGNING))
        .filter_map(|l| {
            Some(SigLayer {
                digest: Digest::parse(l.get("digest")?.as_str()?).ok()?,
                size: l.get("size")?.as_u64()?,
                signature: l
                    .get("annotations")?
                    .get(SIGNATURE_ANNOTATION)?
                    .as_str()?
                    .to_string(),
            })
        })
        .collect()
}

/// The `.sig` manifest of `digest`, when there is one.
fn existing(reg: &dyn Registry, repo: &str, digest: &Digest) -> Result<Option<Vec<u8>>, SignError> {
    match reg.get_manifest(repo, &RefSpec::Tag(signature_tag(digest))) {
        Ok(m) => Ok(Some(m.bytes)),
        Err(e) if e.spec_code() == Some(Code::ManifestUnknown) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn read_blob(reg: &dyn Registry, repo: &str, digest: &Digest) -> Result<Vec<u8>, SignError> {
    let mut r = reg.get_blob(repo, digest)?;
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut r, &mut out).map_err(|e| {
        SignError::Registry(RegistryError::Protocol(format!("reading {digest}: {e}")))
    })?;
    Ok(out)
}

fn check(key: &VerifyingKey, payload: &[u8], b64sig: &str) -> Result<(), String> {
    let invalid = || "invalid signature when validating ASN.1 encoded signature".to_string();
    let der = b64().decode(b64sig).map_err(|_| invalid())?;
    let sig = Signature::from_der(&der).map_err(|_| invalid())?;
    key.verify(payload, &sig).map_err(|_| invalid())
}

/// What [`sign`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Signed {
    /// The `.sig` manifest's digest.
    pub manifest: Digest,
    /// Whether this exact signature was there already (nothing appended).
    pub duplicate: bool,
}

/// Signs `digest` in `repo` with `key` and attaches the signature: a new
/// layer on the digest's `.sig` manifest (a signature by the same key over
/// the same payload is not added twice).
pub fn sign(
    reg: &dyn Registry,
    repo: &str,
    docker_reference: &str,
    digest: &Digest,
    key: &SigningKey,
) -> Result<Signed, SignError> {
    let body = payload(docker_reference, digest);
    let sig: Signature = key.sign(&body);
    let b64sig = b64().encode(sig.to_der().as_bytes());
    let pdigest = Digest::of(&body);
    let mut layers = match existing(reg, repo, digest)? {
        Some(m) => sig_layers(&m),
        None => Vec::new(),
    };
    let verifier = key.verifying_key();
    let duplicate = layers
        .iter()
        .any(|l| l.digest == pdigest && check(verifier, &body, &l.signature).is_ok());
    if !duplicate {
        reg.put_blob(repo, Some(&pdigest), &mut body.as_slice())?;
        layers.push(SigLayer {
            digest: pdigest,
            size: body.len() as u64,
            signature: b64sig,
        });
    }
    // The config go-containerregistry writes for cosign's signature image.
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": layers.iter().map(|_| serde_json::json!({"created": "0001-01-01T00:00:00Z"})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l.digest.to_string()).collect::<Vec<_>>(),
        },
        "config": {},
    }))
    .expect("config serialises");
    let cdigest = Digest::of(&config);
    reg.put_blob(repo, Some(&cdigest), &mut config.as_slice())?;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {
            "mediaType": media::OCI_CONFIG,
            "size": config.len(),
            "digest": cdigest.to_string(),
        },
        "layers": layers.iter().map(|l| serde_json::json!({
            "mediaType": SIMPLE_SIGNING,
            "size": l.size,
            "digest": l.digest.to_string(),
            "annotations": {SIGNATURE_ANNOTATION: l.signature},
        })).collect::<Vec<_>>(),
    }))
    .expect("manifest serialises");
    let manifest = reg.put_manifest(
        repo,
        &RefSpec::Tag(signature_tag(digest)),
        media::OCI_MANIFEST,
        &manifest,
    )?;
    Ok(Signed {
        manifest,
        duplicate,
    })
}

/// Checks `digest`'s signatures against `key`: every layer whose signature
/// verifies over its payload, and whose payload names `digest`, is
/// returned (its payload bytes); none at all is an error.
pub fn verify(
    reg: &dyn Registry,
    repo: &str,
    digest: &Digest,
    key: &VerifyingKey,
) -> Result<Vec<Vec<u8>>, SignError> {
    let Some(manifest) = existing(reg, repo, digest)? else {
        return Err(SignError::NoSignatures);
    };
    let layers = sig_layers(&manifest);
    if layers.is_empty() {
        return Err(SignError::NoSignatures);
    }
    let mut good = Vec::new();
    let mut last = String::new();
    for l in layers {
        let body = read_blob(reg, repo, &l.digest)?;
        if let Err(e) = check(key, &body, &l.signature) {
            last = e;
            continue;
        }
        let named = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.pointer("/critical/image/docker-manifest-digest")
                    .and_then(|d| d.as_str())
                    .map(str::to_string)
            });
        if named.as_deref() != Some(digest.to_string().as_str()) {
            last = format!(
                "invalid or missing digest in claim: {}",
                named.unwrap_or_default()
            );
            continue;
        }
        good.push(body);
    }
    if good.is_empty() {
        return Err(SignError::NoMatching(last));
    }
    Ok(good)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_pair_round_trips_through_its_pem_files() {
        let kp = generate(b"pw").unwrap();
        assert!(
            kp.private_pem
                .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
        );
        assert!(kp.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let sk = load_private(kp.private_pem.as_bytes(), b"pw").unwrap();
        let vk = load_public(kp.public_pem.as_bytes()).unwrap();
        assert_eq!(sk.verifying_key(), &vk);
        assert!(matches!(
            load_private(kp.private_pem.as_bytes(), b"wrong"),
            Err(SignError::Decrypt)
        ));
        let body = payload("localhost:5000/app", &Digest::of(b"x"));
        let sig: Signature = sk.sign(&body);
        let b = b64().encode(sig.to_der().as_bytes());
        assert!(check(&vk, &body, &b).is_ok());
        assert!(check(&vk, b"other", &b).is_err());
    }

    #[test]
    fn the_payload_is_cosigns_simple_signing_json() {
        let d = Digest::of(b"x");
        let p = String::from_utf8(payload("localhost:5000/app", &d)).unwrap();
        assert_eq!(
            p,
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"localhost:5000/app"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
        );
    }
}
