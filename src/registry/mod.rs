//! Registries: one [`Registry`] trait with the OCI Distribution semantics
//! (blobs, manifests, indexes, tags, uploads, cross-repository mounts,
//! deletes, the catalog, and the spec's error codes), and its
//! implementations: [`local::LocalRegistry`], the in-process one over
//! distribution's own on-disk layout (the simulated Docker Hub and every
//! `registry:2` container), the HTTP server in front of any registry
//! (`imagelab registry serve`) and the HTTP client for real ones.
//!
//! Who may do what is the registry's business, not the client's: a
//! [`Policy`] (Docker Hub's namespaces, htpasswd, open) is checked by the
//! in-process registry for every operation, for the HTTP server's callers
//! the same as for the engine. Nothing here prints.

pub mod client;
pub mod htpasswd;
pub mod local;
pub mod server;

use crate::digest::Digest;
use std::io::Read;

/// The error codes of the distribution spec (and the registry's own
/// `UNSUPPORTED` for deletes that are switched off).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    TagInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,
}

impl Code {
    /// The code as the spec spells it in an error body.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BlobUnknown => "BLOB_UNKNOWN",
            Code::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Code::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Code::DigestInvalid => "DIGEST_INVALID",
            Code::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Code::ManifestInvalid => "MANIFEST_INVALID",
            Code::ManifestUnknown => "MANIFEST_UNKNOWN",
            Code::NameInvalid => "NAME_INVALID",
            Code::NameUnknown => "NAME_UNKNOWN",
            Code::SizeInvalid => "SIZE_INVALID",
            Code::TagInvalid => "TAG_INVALID",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::Denied => "DENIED",
            Code::Unsupported => "UNSUPPORTED",
            Code::TooManyRequests => "TOOMANYREQUESTS",
        }
    }

    /// Parses a code from an error body.
    pub fn parse(s: &str) -> Option<Code> {
        Some(match s {
            "BLOB_UNKNOWN" => Code::BlobUnknown,
            "BLOB_UPLOAD_INVALID" => Code::BlobUploadInvalid,
            "BLOB_UPLOAD_UNKNOWN" => Code::BlobUploadUnknown,
            "DIGEST_INVALID" => Code::DigestInvalid,
            "MANIFEST_BLOB_UNKNOWN" => Code::ManifestBlobUnknown,
            "MANIFEST_INVALID" => Code::ManifestInvalid,
            "MANIFEST_UNKNOWN" => Code::ManifestUnknown,
            "NAME_INVALID" => Code::NameInvalid,
            "NAME_UNKNOWN" => Code::NameUnknown,
            "SIZE_INVALID" => Code::SizeInvalid,
            "TAG_INVALID" => Code::TagInvalid,
            "UNAUTHORIZED" => Code::Unauthorized,
            "DENIED" => Code::Denied,
            "UNSUPPORTED" => Code::Unsupported,
            "TOOMANYREQUESTS" => Code::TooManyRequests,
            _ => return None,
        })
    }

    /// The HTTP status distribution answers with.
    pub fn status(self) -> u16 {
        match self {
            Code::BlobUnknown
            | Code::BlobUploadUnknown
            | Code::ManifestUnknown
            | Code::NameUnknown => 404,
            Code::Unauthorized => 401,
            Code::Denied => 403,
            Code::Unsupported => 405,
            Code::TooManyRequests => 429,
            _ => 400,
        }
    }

    /// The message distribution puts beside the code.
    pub fn message(self) -> &'static str {
        match self {
            Code::BlobUnknown => "blob unknown to registry",
            Code::BlobUploadInvalid => "blob upload invalid",
            Code::BlobUploadUnknown => "blob upload unknown to registry",
            Code::DigestInvalid => "provided digest did not match uploaded content",
            Code::ManifestBlobUnknown => "blob unknown to registry",
            Code::ManifestInvalid => "manifest invalid",
            Code::ManifestUnknown => "manifest unknown",
            Code::NameInvalid => "invalid repository name",
            Code::NameUnknown => "repository name not known to registry",
            Code::SizeInvalid => "provided length did not match content length",
            Code::TagInvalid => "manifest tag did not match URI",
            Code::Unauthorized => "authentication required",
            Code::Denied => "requested access to the resource is denied",
            Code::Unsupported => "The operation is unsupported.",
            Code::TooManyRequests => "too many requests",
        }
    }
}

/// A registry's answer when an operation fails: a spec error, or no
/// registry there at all.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// An error the registry answered with (`{"errors":[{code, message, detail}]}`).
    #[error("{}: {message}", code.as_str().to_ascii_lowercase())]
    Spec {
        code: Code,
        message: String,
        detail: Option<String>,
    },
    /// Nothing listens there (docker: `dial tcp …: connect: connection refused`).
    #[error("{0}")]
    Unreachable(String),
    /// The registry's storage failed.
    #[error("registry storage at {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// A protocol failure talking to a remote registry.
    #[error("{0}")]
    Protocol(String),
}

impl RegistryError {
    /// A spec error with the code's own message.
    pub fn code(code: Code) -> RegistryError {
        RegistryError::Spec {
            code,
            message: code.message().to_string(),
            detail: None,
        }
    }

    /// A spec error with a detail (the digest, the name, …).
    pub fn with_detail(code: Code, detail: impl Into<String>) -> RegistryError {
        RegistryError::Spec {
            code,
            message: code.message().to_string(),
            detail: Some(detail.into()),
        }
    }

    /// The spec code, when the registry answered with one.
    pub fn spec_code(&self) -> Option<Code> {
        match self {
            RegistryError::Spec { code, .. } => Some(*code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, RegistryError>;

/// The manifest media types a registry serves.
pub mod media {
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

    /// Every manifest type, for `Accept`.
    pub const ALL_MANIFESTS: [&str; 4] = [DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX];

    /// Whether `t` lists other manifests (an index or a manifest list).
    pub fn is_index(t: &str) -> bool {
        t == DOCKER_LIST || t == OCI_INDEX
    }
}

/// A manifest as a registry holds it: exact bytes, their digest, the type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: String,
    pub digest: Digest,
    pub bytes: Vec<u8>,
}

impl Manifest {
    /// The media type a manifest's bytes declare (`mediaType`), or the OCI
    /// manifest type when they declare none.
    pub fn type_of(bytes: &[u8]) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let declared = v.get("mediaType").and_then(|m| m.as_str());
        Some(match declared {
            Some(t) => t.to_string(),
            None if v.get("manifests").is_some() => media::OCI_INDEX.to_string(),
            None => media::OCI_MANIFEST.to_string(),
        })
    }
}

/// A tag reference or a digest, as the last part of `/v2/<name>/manifests/<ref>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefSpec {
    Tag(String),
    Digest(Digest),
}

impl RefSpec {
    /// Reads a manifest reference: a digest when it looks like one (and then
    /// it must be valid), else a tag (which must match the tag grammar).
    pub fn parse(s: &str) -> Result<RefSpec> {
        if s.contains(':') {
            return Digest::parse(s)
                .map(RefSpec::Digest)
                .map_err(|_| RegistryError::with_detail(Code::DigestInvalid, s));
        }
        if valid_tag(s) {
            Ok(RefSpec::Tag(s.to_string()))
        } else {
            Err(RegistryError::with_detail(Code::TagInvalid, s))
        }
    }
}

impl std::fmt::Display for RefSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefSpec::Tag(t) => f.write_str(t),
            RefSpec::Digest(d) => write!(f, "{d}"),
        }
    }
}

/// The distribution operations, for one registry host. Every call names the
/// repository (`library/nginx`, `team/app`); names are checked with
/// [`valid_name`] before anything touches storage.
pub trait Registry: Sync {
    /// `GET /v2/`: whether the registry is there and what it requires.
    fn ping(&self) -> Result<()>;

    /// `HEAD /v2/<name>/blobs/<digest>`: the blob's size when it is linked
    /// into `repo`.
    fn stat_blob(&self, repo: &str, digest: &Digest) -> Result<Option<u64>>;

    /// `GET /v2/<name>/blobs/<digest>`. Readers verify the digest as they go
    /// ([`VerifyingReader`]).
    fn get_blob(&self, repo: &str, digest: &Digest) -> Result<Box<dyn Read + '_>>;

    /// An upload (`POST` … `PATCH` … `PUT ?digest=`): streams `body` in,
    /// and stores it only when its sha256 is `expected` (else
    /// `DIGEST_INVALID`, nothing stored). With `expected` `None` the digest
    /// is the one computed (what a client does when it streams a
    /// compression it has not finished). Returns the digest and size.
    fn put_blob(
        &self,
        repo: &str,
        expected: Option<&Digest>,
        body: &mut dyn Read,
    ) -> Result<(Digest, u64)>;

    /// Uploads a finished temporary file whose sha256 the caller computed
    /// while writing it (`digest`). The in-process registry takes the file
    /// by rename when it can; others stream it (and verify).
    fn put_blob_file(
        &self,
        repo: &str,
        digest: &Digest,
        file: tempfile::NamedTempFile,
    ) -> Result<u64> {
        let f = file.reopen().map_err(|e| RegistryError::Io {
            path: file.path().to_path_buf(),
            source: e,
        })?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        Ok(self.put_blob(repo, Some(digest), &mut r)?.1)
    }

    /// `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>`: links a
    /// blob another repository has; `false` when it could not (the caller
    /// uploads instead).
    fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool>;

    /// `DELETE /v2/<name>/blobs/<digest>`.
    fn delete_blob(&self, repo: &str, digest: &Digest) -> Result<()>;

    /// `GET /v2/<name>/manifests/<ref>` (an index as it is: choosing a
    /// platform is the client's work).
    fn get_manifest(&self, repo: &str, reference: &RefSpec) -> Result<Manifest>;

    /// `PUT /v2/<name>/manifests/<ref>`: every blob (or manifest) it names
    /// must already be in the repository (`MANIFEST_BLOB_UNKNOWN`).
    fn put_manifest(
        &self,
        repo: &str,
        reference: &RefSpec,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest>;

    /// `DELETE /v2/<name>/manifests/<digest>` (the manifest and every tag
    /// pointing at it), or a tag alone.
    fn delete_manifest(&self, repo: &str, reference: &RefSpec) -> Result<()>;

    /// `GET /v2/<name>/tags/list`, sorted.
    fn tags(&self, repo: &str) -> Result<Vec<String>>;

    /// `GET /v2/_catalog`, sorted.
    fn catalog(&self) -> Result<Vec<String>>;
}

/// A repository name as distribution accepts it: lowercase components of
/// `[a-z0-9]` joined by `.`, `_`, `__` or runs of `-`, separated by `/`,
/// at most 255 characters. Anything else (`..`, `/x`, upper case, empty)
/// is `NAME_INVALID`, so a name never escapes the storage directory.
pub fn valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    name.split('/').all(valid_component)
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__`, or one or more `-`.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || i >= b.len() || !alnum(b[i]) {
            return false;
        }
    }
    true
}

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Checks a repository name, as every operation does first.
pub fn check_name(name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(RegistryError::with_detail(Code::NameInvalid, name))
    }
}

/// A reader that hashes what passes through and fails at the end when the
/// sha256 is not the expected digest: blobs are verified as they are read.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: sha2::Sha256,
    expected: Digest,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest) -> Self {
        use sha2::Digest as _;
        VerifyingReader {
            inner,
            hasher: sha2::Sha256::new(),
            expected,
            done: false,
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest as _;
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.done {
            self.done = true;
            let got = Digest::from_sha256(self.hasher.clone().finalize().into());
            if got != self.expected {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("blob {} has digest {got}", self.expected),
                ));
            }
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
