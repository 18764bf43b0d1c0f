//! The in-process registry: distribution's own storage layout under a root
//! folder (`docker/registry/v2/blobs/sha256/ab/<hex>/data`, and per
//! repository `_layers`, `_manifests/revisions` and `_manifests/tags` link
//! files), so what `registry garbage-collect` and a learner listing
//! `/var/lib/registry` see is what the real registry keeps.
//!
//! Every blob is written to a temporary file while hashed and renamed into
//! place only when its digest is the one claimed: nothing is ever stored
//! under a wrong digest, and a crash leaves a stray temporary file, never a
//! half-written blob. Links are written the same way. Two processes can
//! share a root: each write is one rename, and readers verify.
//!
//! A [`Policy`] says who may pull, push and delete: Docker Hub's rules
//! (anyone pulls public repositories, only their owner pushes to a
//! namespace, private repositories are invisible to others), htpasswd
//! (every request needs a user), or none (`registry:2` as shipped).

use super::{Code, Manifest, RefSpec, Registry, RegistryError, Result, check_name, media};
use crate::digest::{Digest, HashingWriter};
use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Who the registry lets in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `registry:2` as shipped: anyone may do anything.
    Open,
    /// `REGISTRY_AUTH=htpasswd`: every request needs an authenticated user.
    Htpasswd,
    /// Docker Hub: pull public repositories freely; push only to one's own
    /// namespace; private repositories only for their owner.
    Hub,
}

/// The access rules in force for one caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub auth: Auth,
    /// The caller, already authenticated by whoever made the policy.
    pub user: Option<String>,
    /// `REGISTRY_STORAGE_DELETE_ENABLED=true` (always on for the Hub's
    /// owners).
    pub delete_enabled: bool,
}

impl Policy {
    /// `registry:2` with no configuration.
    pub fn open() -> Policy {
        Policy {
            auth: Auth::Open,
            user: None,
            delete_enabled: false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Pull,
    Push,
    Delete,
}

/// An in-process registry over a folder.
pub struct LocalRegistry {
    root: PathBuf,
    policy: Policy,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RegistryError + '_ {
    move |source| RegistryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl LocalRegistry {
    /// A registry whose storage is `root` (created on first write).
    pub fn new(root: &Path, policy: Policy) -> LocalRegistry {
        LocalRegistry {
            root: root.to_path_buf(),
            policy,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn v2(&self) -> PathBuf {
        self.root.join("docker/registry/v2")
    }

    fn blob_data(&self, d: &Digest) -> PathBuf {
        let hex = d.hex();
        self.v2()
            .join("blobs/sha256")
            .join(&hex[..2])
            .join(&hex)
            .join("data")
    }

    fn repo_dir(&self, repo: &str) -> PathBuf {
        self.v2().join("repositories").join(repo)
    }

    fn layer_link(&self, repo: &str, d: &Digest) -> PathBuf {
        self.repo_dir(repo)
            .join("_layers/sha256")
            .join(d.hex())
            .join("link")
    }

    fn revision_link(&self, repo: &str, d: &Digest) -> PathBuf {
        self.repo_dir(repo)
            .join("_manifests/revisions/sha256")
            .join(d.hex())
            .join("link")
    }

    fn tag_dir(&self, repo: &str, tag: &str) -> PathBuf {
        self.repo_dir(repo).join("_manifests/tags").join(tag)
    }

    fn hub_meta(&self) -> PathBuf {
        self.root.join("hub.json")
    }

    /// Repositories the Hub keeps private (`hub.json`).
    pub fn private_repos(&self) -> BTreeSet<String> {
        fs::read(self.hub_meta())
            .ok()
            .and_then(|b| serde_json::from_slice::<HubMeta>(&b).ok())
            .map(|m| m.private)
            .unwrap_or_default()
    }

    /// Marks a Hub repository private or public.
    pub fn set_private(&self, repo: &str, private: bool) -> Result<()> {
        let mut meta: HubMeta = fs::read(self.hub_meta())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        if private {
            meta.private.insert(repo.to_string());
        } else {
            meta.private.remove(repo);
        }
        let p = self.hub_meta();
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        crate::home::write_atomic(&p, &serde_json::to_vec(&meta).expect("serializes"))
            .map_err(io_err(&p))
    }

    fn check(&self, repo: &str, action: Action) -> Result<()> {
        check_name(repo)?;
        let user = self.policy.user.as_deref();
        match self.policy.auth {
            Auth::Open => {}
            Auth::Htpasswd => {
                if user.is_none() {
                    return Err(RegistryError::code(Code::Unauthorized));
                }
            }
            Auth::Hub => {
                let owner = repo.split('/').next().unwrap_or_default();
                let own = user == Some(owner);
                match action {
                    Action::Pull => {
                        if !own && self.private_repos().contains(repo) {
                            return Err(if user.is_none() {
                                RegistryError::code(Code::Unauthorized)
                            } else {
                                RegistryError::code(Code::Denied)
                            });
                        }
                    }
                    Action::Push | Action::Delete => {
                        if user.is_none() {
                            return Err(RegistryError::code(Code::Unauthorized));
                        }
                        if !own {
                            return Err(RegistryError::code(Code::Denied));
                        }
                    }
                }
            }
        }
        if action == Action::Delete && !self.policy.delete_enabled && self.policy.auth != Auth::Hub
        {
            return Err(RegistryError::code(Code::Unsupported));
        }
        Ok(())
    }

    fn repo_exists(&self, repo: &str) -> bool {
        self.repo_dir(repo).join("_manifests").is_dir()
            || self.repo_dir(repo).join("_layers").is_dir()
    }

    fn has_blob_data(&self, d: &Digest) -> Option<u64> {
        fs::metadata(self.blob_data(d)).ok().map(|m| m.len())
    }

    fn write_link(&self, path: &Path, d: &Digest) -> Result<()> {
        let dir = path.parent().expect("links live in folders");
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        crate::home::write_atomic(path, d.to_string().as_bytes()).map_err(io_err(path))
    }

    fn read_link(&self, path: &Path) -> Option<Digest> {
        let s = fs::read_to_string(path).ok()?;
        Digest::parse(s.trim()).ok()
    }

    fn linked(&self, repo: &str, d: &Digest) -> bool {
        self.read_link(&self.layer_link(repo, d)).as_ref() == Some(d)
            || self.read_link(&self.revision_link(repo, d)).as_ref() == Some(d)
    }

    /// Stores `body` as a blob (verified) without linking it anywhere.
    fn store_blob(&self, expected: Option<&Digest>, body: &mut dyn Read) -> Result<(Digest, u64)> {
        let tmp_dir = self.v2().join("tmp");
        fs::create_dir_all(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let mut w = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, tmp.as_file()));
        io::copy(body, &mut w).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::UnexpectedEof {
                RegistryError::with_detail(Code::BlobUploadInvalid, e.to_string())
            } else {
                RegistryError::Io {
                    path: tmp.path().to_path_buf(),
                    source: e,
                }
            }
        })?;
        let (digest, size, out) = w.finish();
        out.into_inner()
            .map_err(|e| io_err(tmp.path())(e.into_error()))?;
        if let Some(exp) = expected
            && exp != &digest
        {
            return Err(RegistryError::with_detail(
                Code::DigestInvalid,
                format!("expected {exp}, got {digest}"),
            ));
        }
        let target = self.blob_data(&digest);
        if self.has_blob_data(&digest) == Some(size) {
            return Ok((digest, size));
        }
        let dir = target.parent().expect("blob has a folder");
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        tmp.persist(&target).map_err(|e| RegistryError::Io {
            path: target.clone(),
            source: e.error,
        })?;
        Ok((digest, size))
    }

    /// The manifest a tag points at.
    fn tag_target(&self, repo: &str, tag: &str) -> Option<Digest> {
        self.read_link(&self.tag_dir(repo, tag).join("current/link"))
    }

    fn load_manifest(&self, d: &Digest) -> Result<Manifest> {
        let p = self.blob_data(d);
        let bytes = fs::read(&p).map_err(io_err(&p))?;
        if &Digest::of(&bytes) != d {
            return Err(RegistryError::Io {
                path: p,
                source: io::Error::new(io::ErrorKind::InvalidData, "manifest blob is damaged"),
            });
        }
        let media_type =
            Manifest::type_of(&bytes).unwrap_or_else(|| media::OCI_MANIFEST.to_string());
        Ok(Manifest {
            media_type,
            digest: d.clone(),
            bytes,
        })
    }

    /// Deletes what garbage collection would: blobs no manifest of any
    /// repository references (with `delete_untagged`, manifests no tag
    /// points at go first). Returns the blobs removed.
    pub fn garbage_collect(&self, delete_untagged: bool) -> Result<Vec<Digest>> {
        let mut marked = BTreeSet::new();
        for repo in self.catalog_unchecked()? {
            let revs = self.repo_dir(&repo).join("_manifests/revisions/sha256");
            let tagged: BTreeSet<Digest> = self
                .tags_unchecked(&repo)
                .iter()
                .filter_map(|t| self.tag_target(&repo, t))
                .collect();
            for hex in list_dir(&revs) {
                let Ok(d) = Digest::from_hex(&hex) else {
                    continue;
                };
                if delete_untagged && !tagged.contains(&d) {
                    let _ = fs::remove_dir_all(revs.join(&hex));
                    continue;
                }
                self.mark(&d, &mut marked);
            }
        }
        let mut removed = Vec::new();
        let blobs = self.v2().join("blobs/sha256");
        for pre in list_dir(&blobs) {
            for hex in list_dir(&blobs.join(&pre)) {
                let Ok(d) = Digest::from_hex(&hex) else {
                    continue;
                };
                if !marked.contains(&d) {
                    let _ = fs::remove_dir_all(blobs.join(&pre).join(&hex));
                    removed.push(d);
                }
            }
        }
        Ok(removed)
    }

    /// distribution 2.8's `MarkAndSweep`: every manifest revision of every
    /// repository is marked with the blobs it references (with
    /// `remove_untagged`, revisions no tag points at are not marked but
    /// listed for deletion, unless another manifest references them);
    /// then unmarked blobs are swept. With `dry_run` nothing is removed.
    pub fn mark_and_sweep(&self, dry_run: bool, remove_untagged: bool) -> Result<GcReport> {
        let mut report = GcReport::default();
        let mut marked = BTreeSet::new();
        let mut untagged = Vec::new();
        for repo in self.catalog_unchecked()? {
            let mut marks = Vec::new();
            let revs = self.repo_dir(&repo).join("_manifests/revisions/sha256");
            let tags = self.tags_unchecked(&repo);
            for hex in list_dir(&revs) {
                let Ok(d) = Digest::from_hex(&hex) else {
                    continue;
                };
                if self.read_link(&revs.join(&hex).join("link")).as_ref() != Some(&d) {
                    continue;
                }
                if remove_untagged
                    && !tags
                        .iter()
                        .any(|t| self.tag_target(&repo, t).as_ref() == Some(&d))
                {
                    untagged.push(GcManifest {
                        repo: repo.clone(),
                        digest: d,
                        tags: tags.clone(),
                    });
                    continue;
                }
                marked.insert(d.clone());
                let refs = self
                    .load_manifest(&d)
                    .map(|m| references(&m.bytes))
                    .unwrap_or_default();
                for r in &refs {
                    marked.insert(r.clone());
                }
                marks.push((d, refs));
            }
            report.repositories.push((repo, marks));
        }
        report.manifests = untagged
            .into_iter()
            .filter(|m| !marked.contains(&m.digest))
            .collect();
        if !dry_run {
            for m in &report.manifests {
                let dir = self
                    .repo_dir(&m.repo)
                    .join("_manifests/revisions/sha256")
                    .join(m.digest.hex());
                let _ = fs::remove_dir_all(dir);
                for t in &m.tags {
                    let _ = fs::remove_dir_all(
                        self.tag_dir(&m.repo, t)
                            .join("index/sha256")
                            .join(m.digest.hex()),
                    );
                }
            }
        }
        let blobs = self.v2().join("blobs/sha256");
        for pre in list_dir(&blobs) {
            for hex in list_dir(&blobs.join(&pre)) {
                let Ok(d) = Digest::from_hex(&hex) else {
                    continue;
                };
                if !marked.contains(&d) {
                    report.eligible.push(d);
                }
            }
        }
        report.marked = marked.len();
        if !dry_run {
            for d in &report.eligible {
                let _ = fs::remove_dir_all(blobs.join(&d.hex()[..2]).join(d.hex()));
            }
        }
        Ok(report)
    }

    fn mark(&self, d: &Digest, marked: &mut BTreeSet<Digest>) {
        if !marked.insert(d.clone()) {
            return;
        }
        let Ok(m) = self.load_manifest(d) else {
            return;
        };
        for r in references(&m.bytes) {
            if media::is_index(&m.media_type) {
                self.mark(&r, marked);
            } else {
                marked.insert(r);
            }
        }
    }

    fn catalog_unchecked(&self) -> Result<Vec<String>> {
        let base = self.v2().join("repositories");
        let mut out = Vec::new();
        walk_repos(&base, "", &mut out);
        out.sort();
        Ok(out)
    }

    fn tags_unchecked(&self, repo: &str) -> Vec<String> {
        let mut tags: Vec<String> = list_dir(&self.repo_dir(repo).join("_manifests/tags"))
            .into_iter()
            .filter(|t| self.tag_target(repo, t).is_some())
            .collect();
        tags.sort();
        tags
    }
}

/// What [`LocalRegistry::mark_and_sweep`] found (and, unless a dry run,
/// removed).
#[derive(Debug, Default)]
pub struct GcReport {
    /// Each repository with its marked manifests and the blobs each
    /// references, in storage order.
    pub repositories: Vec<(String, Vec<GcMarked>)>,
    /// Untagged manifests eligible for deletion (`--delete-untagged`).
    pub manifests: Vec<GcManifest>,
    /// How many digests were marked.
    pub marked: usize,
    /// Blobs nothing marked, sorted.
    pub eligible: Vec<Digest>,
}

/// A marked manifest and the blobs it references.
pub type GcMarked = (Digest, Vec<Digest>);

/// An untagged manifest garbage collection deletes.
#[derive(Debug, Clone)]
pub struct GcManifest {
    pub repo: String,
    pub digest: Digest,
    /// The repository's tags (whose index entries for it go too).
    pub tags: Vec<String>,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct HubMeta {
    #[serde(default)]
    private: BTreeSet<String>,
}

fn list_dir(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn walk_repos(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for name in list_dir(dir) {
        if name.starts_with('_') {
            continue;
        }
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let p = dir.join(&name);
        if p.join("_manifests").is_dir() {
            out.push(full.clone());
        }
        if p.is_dir() {
            walk_repos(&p, &full, out);
        }
    }
}

/// The digests a manifest or index names: its config, layers and
/// sub-manifests (the `subject` too).
pub fn references(bytes: &[u8]) -> Vec<Digest> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut take = |d: &serde_json::Value| {
        if let Some(d) = d.get("digest").and_then(|x| x.as_str())
            && let Ok(d) = Digest::parse(d)
        {
            out.push(d);
        }
    };
    if let Some(c) = v.get("config") {
        take(c);
    }
    for key in ["layers", "manifests"] {
        for d in v.get(key).and_then(|l| l.as_array()).into_iter().flatten() {
            take(d);
        }
    }
    out
}

impl Registry for LocalRegistry {
    fn ping(&self) -> Result<()> {
        if self.policy.auth == Auth::Htpasswd && self.policy.user.is_none() {
            return Err(RegistryError::code(Code::Unauthorized));
        }
        Ok(())
    }

    fn stat_blob(&self, repo: &str, digest: &Digest) -> Result<Option<u64>> {
        self.check(repo, Action::Pull)?;
        if !self.linked(repo, digest) {
            return Ok(None);
        }
        Ok(self.has_blob_data(digest))
    }

    fn get_blob(&self, repo: &str, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        self.check(repo, Action::Pull)?;
        if !self.linked(repo, digest) {
            return Err(RegistryError::with_detail(
                Code::BlobUnknown,
                digest.to_string(),
            ));
        }
        let p = self.blob_data(digest);
        let f = fs::File::open(&p)
            .map_err(|_| RegistryError::with_detail(Code::BlobUnknown, digest.to_string()))?;
        Ok(Box::new(super::VerifyingReader::new(
            io::BufReader::with_capacity(1 << 20, f),
            digest.clone(),
        )))
    }

    fn put_blob(
        &self,
        repo: &str,
        expected: Option<&Digest>,
        body: &mut dyn Read,
    ) -> Result<(Digest, u64)> {
        self.check(repo, Action::Push)?;
        let (d, size) = self.store_blob(expected, body)?;
        self.write_link(&self.layer_link(repo, &d), &d)?;
        Ok((d, size))
    }

    /// Takes the file by rename (same file system: the engine's temporary
    /// folder and the registry live in one home), else copies and verifies.
    fn put_blob_file(
        &self,
        repo: &str,
        digest: &Digest,
        file: tempfile::NamedTempFile,
    ) -> Result<u64> {
        self.check(repo, Action::Push)?;
        let size = match self.has_blob_data(digest) {
            Some(size) => size,
            None => {
                let target = self.blob_data(digest);
                let dir = target.parent().expect("blob has a folder");
                fs::create_dir_all(dir).map_err(io_err(dir))?;
                let size = file
                    .as_file()
                    .metadata()
                    .map_err(io_err(file.path()))?
                    .len();
                match file.persist_noclobber(&target) {
                    Ok(_) => size,
                    Err(e) => {
                        let f = e.file.reopen().map_err(io_err(e.file.path()))?;
                        let mut r = super::VerifyingReader::new(
                            io::BufReader::with_capacity(1 << 20, f),
                            digest.clone(),
                        );
                        self.store_blob(Some(digest), &mut r)?.1
                    }
                }
            }
        };
        self.write_link(&self.layer_link(repo, digest), digest)?;
        Ok(size)
    }

    fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        self.check(repo, Action::Push)?;
        if self.check(from, Action::Pull).is_err() || !self.linked(from, digest) {
            return Ok(false);
        }
        if self.has_blob_data(digest).is_none() {
            return Ok(false);
        }
        self.write_link(&self.layer_link(repo, digest), digest)?;
        Ok(true)
    }

    fn delete_blob(&self, repo: &str, digest: &Digest) -> Result<()> {
        self.check(repo, Action::Delete)?;
        let link = self.layer_link(repo, digest);
        if self.read_link(&link).is_none() {
            return Err(RegistryError::with_detail(
                Code::BlobUnknown,
                digest.to_string(),
            ));
        }
        let dir = link.parent().expect("link in a folder");
        fs::remove_dir_all(dir).map_err(io_err(dir))
    }

    fn get_manifest(&self, repo: &str, reference: &RefSpec) -> Result<Manifest> {
        self.check(repo, Action::Pull)?;
        if !self.repo_exists(repo) {
            return Err(RegistryError::with_detail(Code::NameUnknown, repo));
        }
        let d = match reference {
            RefSpec::Tag(t) => self
                .tag_target(repo, t)
                .ok_or_else(|| RegistryError::with_detail(Code::ManifestUnknown, t.clone()))?,
            RefSpec::Digest(d) => {
                if self.read_link(&self.revision_link(repo, d)).as_ref() != Some(d) {
                    return Err(RegistryError::with_detail(
                        Code::ManifestUnknown,
                        d.to_string(),
                    ));
                }
                d.clone()
            }
        };
        self.load_manifest(&d)
    }

    fn put_manifest(
        &self,
        repo: &str,
        reference: &RefSpec,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest> {
        self.check(repo, Action::Push)?;
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| RegistryError::with_detail(Code::ManifestInvalid, e.to_string()))?;
        if !v.is_object() || v.get("schemaVersion").and_then(|s| s.as_u64()) != Some(2) {
            return Err(RegistryError::with_detail(
                Code::ManifestInvalid,
                "schemaVersion must be 2",
            ));
        }
        let declared = Manifest::type_of(bytes).unwrap_or_default();
        if v.get("mediaType").is_some() && !media_type.is_empty() && declared != media_type {
            return Err(RegistryError::with_detail(
                Code::ManifestInvalid,
                format!("mediaType in manifest should be '{media_type}' not '{declared}'"),
            ));
        }
        let digest = Digest::of(bytes);
        if let RefSpec::Digest(d) = reference
            && d != &digest
        {
            return Err(RegistryError::with_detail(
                Code::DigestInvalid,
                d.to_string(),
            ));
        }
        let index = media::is_index(&declared);
        for r in references(bytes) {
            let known = if index {
                self.read_link(&self.revision_link(repo, &r)).as_ref() == Some(&r)
            } else {
                self.linked(repo, &r) && self.has_blob_data(&r).is_some()
            };
            if !known {
                let code = if index {
                    Code::ManifestUnknown
                } else {
                    Code::ManifestBlobUnknown
                };
                return Err(RegistryError::with_detail(code, r.to_string()));
            }
        }
        // A manifest pushed again under the same tag changes nothing: no
        // write (each link is a synced rename).
        if let RefSpec::Tag(t) = reference
            && self.tag_target(repo, t).as_ref() == Some(&digest)
            && self.read_link(&self.revision_link(repo, &digest)).as_ref() == Some(&digest)
        {
            return Ok(digest);
        }
        if self.has_blob_data(&digest) != Some(bytes.len() as u64) {
            self.store_blob(Some(&digest), &mut &bytes[..])?;
        }
        self.write_link(&self.revision_link(repo, &digest), &digest)?;
        if let RefSpec::Tag(t) = reference {
            let dir = self.tag_dir(repo, t);
            self.write_link(
                &dir.join("index/sha256").join(digest.hex()).join("link"),
                &digest,
            )?;
            self.write_link(&dir.join("current/link"), &digest)?;
        }
        Ok(digest)
    }

    fn delete_manifest(&self, repo: &str, reference: &RefSpec) -> Result<()> {
        self.check(repo, Action::Delete)?;
        match reference {
            RefSpec::Tag(t) => {
                if self.tag_target(repo, t).is_none() {
                    return Err(RegistryError::with_detail(Code::ManifestUnknown, t.clone()));
                }
                let dir = self.tag_dir(repo, t);
                fs::remove_dir_all(&dir).map_err(io_err(&dir))
            }
            RefSpec::Digest(d) => {
                let link = self.revision_link(repo, d);
                if self.read_link(&link).as_ref() != Some(d) {
                    return Err(RegistryError::with_detail(
                        Code::ManifestUnknown,
                        d.to_string(),
                    ));
                }
                for t in self.tags_unchecked(repo) {
                    if self.tag_target(repo, &t).as_ref() == Some(d) {
                        let dir = self.tag_dir(repo, &t);
                        fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
                    }
                }
                let dir = link.parent().expect("link in a folder");
                fs::remove_dir_all(dir).map_err(io_err(dir))
            }
        }
    }

    fn tags(&self, repo: &str) -> Result<Vec<String>> {
        self.check(repo, Action::Pull)?;
        if !self.repo_exists(repo) {
            return Err(RegistryError::with_detail(Code::NameUnknown, repo));
        }
        Ok(self.tags_unchecked(repo))
    }

    fn catalog(&self) -> Result<Vec<String>> {
        let mut all = self.catalog_unchecked()?;
        if self.policy.auth == Auth::Htpasswd && self.policy.user.is_none() {
            return Err(RegistryError::code(Code::Unauthorized));
        }
        all.retain(|r| self.check(r, Action::Pull).is_ok());
        Ok(all)
    }
}
