//! The HTTP side of a registry: distribution's `/v2/` API in front of any
//! [`Registry`], so `docker`, `skopeo` or [`super::client::RemoteRegistry`]
//! can push to and pull from the lab's registries over a socket.
//!
//! Request handling is [`Handler::serve`], a function of a [`Request`] (method,
//! target, headers, a body reader) that returns a [`Response`] (status,
//! headers, a body that may stream from the registry); it knows nothing of
//! sockets, so tests drive it directly. [`start`] puts it behind `tiny_http`
//! in a background thread, one thread per request.
//!
//! Every caller gets its own registry view from the handler's factory, given
//! the Basic credentials of its `Authorization` header: who may do what is
//! the registry's business ([`super::local::Policy`]). Upload sessions are
//! files in a staging folder, named by UUIDs the server made (an unknown or
//! malformed one is `BLOB_UPLOAD_UNKNOWN`, never a path); the bytes reach the
//! registry only through [`Registry::put_blob`], which verifies the digest.
//! Paths are read from the right and never percent-decoded, so a name with
//! `%2f` or `..` is `NAME_INVALID`. Manifests are capped at 4 MiB, uploads
//! at a limit the handler is given (10 GiB by default). Nothing here prints.

use super::{Code, RefSpec, Registry, RegistryError, check_name, media};
use crate::digest::Digest;
use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The largest manifest body accepted (distribution's own limit).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// The default cap on one blob upload.
pub const DEFAULT_MAX_UPLOAD: u64 = 10 << 30;
/// `_catalog` entries returned when the request sets no `n`.
const CATALOG_DEFAULT_ENTRIES: usize = 100;
/// The largest `n` a paginated request may ask for.
const MAX_ENTRIES: usize = 1000;
/// The realm of the Basic challenge.
pub const REALM: &str = "imagelab";
/// Upload sessions older than this are removed when a handler starts.
const STALE_UPLOAD_SECS: u64 = 7 * 24 * 3600;
const COPY_BUF: usize = 1 << 20;

/// Makes the registry view for one caller from its Basic credentials (or
/// refuses it, typically `UNAUTHORIZED`).
pub type ViewFactory = dyn Fn(Option<(String, String)>) -> Result<Box<dyn Registry + Send>, RegistryError>
    + Send
    + Sync;

/// An HTTP request, as far as the registry API needs one.
pub struct Request<'a> {
    pub method: String,
    /// The request target as sent: path and query, not decoded.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: &'a mut dyn Read,
}

impl Request<'_> {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response body: nothing, bytes, a stream from the registry of a known
/// length, or (for `HEAD`) only the length the `GET` would have.
pub enum Body<'r> {
    Empty,
    Bytes(Vec<u8>),
    Stream {
        reader: Box<dyn Read + 'r>,
        len: u64,
    },
    Length(u64),
}

/// An HTTP response.
pub struct Response<'r> {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body<'r>,
}

impl<'r> Response<'r> {
    fn new(status: u16) -> Response<'r> {
        Response {
            status,
            headers: vec![(
                "Docker-Distribution-Api-Version".into(),
                "registry/2.0".into(),
            )],
            body: Body::Empty,
        }
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Response<'r> {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    fn json(self, v: &serde_json::Value) -> Response<'r> {
        let mut r = self.header("Content-Type", "application/json; charset=utf-8");
        // Go's json.Encoder, which distribution writes with, ends the
        // document with a newline.
        let mut bytes = serde_json::to_vec(v).unwrap_or_default();
        bytes.push(b'\n');
        r.body = Body::Bytes(bytes);
        r
    }

    /// The first header called `name` (case-insensitive).
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response with its body read: what tests look at.
#[derive(Debug, Clone)]
pub struct Collected {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Collected {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first error code of an error body.
    pub fn error_code(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        v.get("errors")?
            .get(0)?
            .get("code")?
            .as_str()
            .map(str::to_string)
    }
}

/// A failed request: the status and the error body's entry.
struct Fail {
    status: u16,
    code: &'static str,
    message: String,
    detail: Option<String>,
    headers: Vec<(String, String)>,
}

impl Fail {
    fn new(status: u16, code: &'static str, message: &str, detail: Option<String>) -> Fail {
        Fail {
            status,
            code,
            message: message.to_string(),
            detail,
            headers: Vec::new(),
        }
    }

    fn spec(code: Code, detail: impl Into<String>) -> Fail {
        RegistryError::with_detail(code, detail).into()
    }

    fn io(path: &Path, e: io::Error) -> Fail {
        RegistryError::Io {
            path: path.to_path_buf(),
            source: e,
        }
        .into()
    }

    fn too_large(limit: u64) -> Fail {
        Fail::new(
            413,
            "SIZE_INVALID",
            "request entity too large",
            Some(format!(
                "the upload exceeds the registry's limit of {limit} bytes"
            )),
        )
    }

    fn with_headers(mut self, h: Vec<(String, String)>) -> Fail {
        self.headers = h;
        self
    }

    fn into_response<'r>(self) -> Response<'r> {
        let mut r = Response::new(self.status);
        if self.code == Code::Unauthorized.as_str() {
            r = r.header("WWW-Authenticate", format!("Basic realm=\"{REALM}\""));
        }
        r.headers.extend(self.headers);
        let mut entry = serde_json::json!({"code": self.code, "message": self.message});
        if let Some(d) = self.detail {
            entry["detail"] = serde_json::Value::String(d);
        }
        r.json(&serde_json::json!({ "errors": [entry] }))
    }
}

impl From<RegistryError> for Fail {
    fn from(e: RegistryError) -> Fail {
        match e {
            RegistryError::Spec {
                code,
                message,
                detail,
            } => Fail {
                status: code.status(),
                code: code.as_str(),
                message,
                detail,
                headers: Vec::new(),
            },
            other => Fail::new(500, "UNKNOWN", "unknown error", Some(other.to_string())),
        }
    }
}

type Outcome<'r> = Result<Response<'r>, Fail>;

/// Which API a path names. Names are everything between `/v2/` and the
/// suffix found from the right; they are checked later, never decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route<'u> {
    Base,
    Catalog,
    Tags(&'u str),
    Manifest(&'u str, &'u str),
    Blob(&'u str, &'u str),
    Uploads(&'u str),
    Upload(&'u str, &'u str),
}

fn parse_route(path: &str) -> Option<Route<'_>> {
    if path == "/v2/" || path == "/v2" {
        return Some(Route::Base);
    }
    let rest = path.strip_prefix("/v2/")?;
    if rest == "_catalog" {
        return Some(Route::Catalog);
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some(Route::Tags(name));
    }
    if let Some(name) = rest.strip_suffix("/blobs/uploads/") {
        return Some(Route::Uploads(name));
    }
    // `<name>/<kind>/<last>` with no `/` in `last`.
    let (head, last) = rest.rsplit_once('/')?;
    if last.is_empty() {
        return None;
    }
    if let Some(name) = head.strip_suffix("/blobs/uploads") {
        return Some(Route::Upload(name, last));
    }
    if let Some(name) = head.strip_suffix("/blobs") {
        return Some(Route::Blob(name, last));
    }
    if let Some(name) = head.strip_suffix("/manifests") {
        return Some(Route::Manifest(name, last));
    }
    None
}

fn allowed(route: Route<'_>) -> &'static [&'static str] {
    match route {
        Route::Base => &["GET", "HEAD"],
        Route::Catalog | Route::Tags(_) => &["GET"],
        Route::Manifest(..) => &["DELETE", "GET", "HEAD", "PUT"],
        Route::Blob(..) => &["DELETE", "GET", "HEAD"],
        // distribution answers the other methods of the session route
        // without a session with BLOB_UPLOAD_UNKNOWN.
        Route::Uploads(_) => &["DELETE", "GET", "PATCH", "POST", "PUT"],
        Route::Upload(..) => &["DELETE", "GET", "PATCH", "PUT"],
    }
}

/// The query's pairs, decoded as Go's `url.ParseQuery` does (`+` is a space).
fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Go's `url.QueryEscape`, for the values of `Link` headers.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(c as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{c:02X}")),
        }
    }
    out
}

/// The Basic credentials of an `Authorization` header, when well formed.
pub fn basic_credentials(header: Option<&str>) -> Option<(String, String)> {
    use base64::Engine as _;
    let h = header?.trim();
    let (scheme, token) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// A reader that fails once more than `left` bytes come through.
struct Capped<'a> {
    inner: &'a mut dyn Read,
    left: u64,
    over: bool,
}

impl Read for Capped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.left.saturating_add(1)) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.over = true;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "upload exceeds the registry's limit",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Marks an upload session as in use by one request.
struct Busy<'h> {
    set: &'h Mutex<HashSet<String>>,
    uuid: String,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.set.lock() {
            s.remove(&self.uuid);
        }
    }
}

/// A UUID as the server makes them: 8-4-4-4-12 lowercase hex.
fn valid_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

/// A fresh random UUID (version 4 layout). The randomness is the process's
/// hash keys (seeded by the OS), a counter and the clock, through sha256.
fn new_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    h.write_u64(n);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut seed = Vec::new();
    seed.extend_from_slice(&h.finish().to_le_bytes());
    seed.extend_from_slice(&now.to_le_bytes());
    seed.extend_from_slice(&n.to_le_bytes());
    seed.extend_from_slice(&std::process::id().to_le_bytes());
    let mut b = Digest::of(&seed).bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(&b[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Serves the distribution API for registry views made per caller.
pub struct Handler {
    factory: Box<ViewFactory>,
    /// The realm of the Basic challenge (`REGISTRY_AUTH_HTPASSWD_REALM`).
    realm: String,
    staging: PathBuf,
    max_upload: u64,
    busy: Mutex<HashSet<String>>,
}

impl Handler {
    /// A handler over the in-process registry at `root`, with the same
    /// policy for every caller (credentials are not asked for).
    pub fn local(staging: &Path, root: &Path, policy: super::local::Policy) -> Handler {
        let root = root.to_path_buf();
        Handler::new(staging, move |_| {
            Ok(
                Box::new(super::local::LocalRegistry::new(&root, policy.clone()))
                    as Box<dyn Registry + Send>,
            )
        })
    }

    /// A handler whose upload sessions are files under `staging`, and whose
    /// callers get the registry `factory` makes from their credentials.
    /// Sessions left there for over a week are removed.
    pub fn new<F>(staging: &Path, factory: F) -> Handler
    where
        F: Fn(Option<(String, String)>) -> Result<Box<dyn Registry + Send>, RegistryError>
            + Send
            + Sync
            + 'static,
    {
        let h = Handler {
            factory: Box::new(factory),
            realm: REALM.to_string(),
            staging: staging.to_path_buf(),
            max_upload: DEFAULT_MAX_UPLOAD,
            busy: Mutex::new(HashSet::new()),
        };
        h.remove_stale_sessions();
        h
    }

    /// Names the realm of the Basic challenge.
    pub fn realm(mut self, realm: &str) -> Handler {
        self.realm = realm.to_string();
        self
    }

    /// Caps one blob upload at `bytes`.
    pub fn max_upload(mut self, bytes: u64) -> Handler {
        self.max_upload = bytes;
        self
    }

    pub fn staging(&self) -> &Path {
        &self.staging
    }

    fn remove_stale_sessions(&self) {
        let Ok(rd) = fs::read_dir(&self.staging) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let stale = fs::metadata(e.path().join("data"))
                .or_else(|_| e.metadata())
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > STALE_UPLOAD_SECS);
            if valid_uuid(name) && stale {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }

    /// Handles one request and reads the response body: for tests and
    /// anything else without a socket.
    pub fn handle(&self, mut req: Request<'_>) -> Collected {
        let mut slot = None;
        let resp = self.serve(&mut req, &mut slot);
        let mut body = Vec::new();
        match resp.body {
            Body::Empty | Body::Length(_) => {}
            Body::Bytes(b) => body = b,
            Body::Stream { reader, len } => {
                // A damaged blob fails its verification part-way: what was
                // read is what a client would have received.
                let _ = reader.take(len).read_to_end(&mut body);
            }
        }
        Collected {
            status: resp.status,
            headers: resp.headers,
            body,
        }
    }

    /// Answers one request. The caller's registry view is kept in `slot`, so
    /// a blob can stream from it after this returns.
    pub fn serve<'s>(
        &'s self,
        req: &mut Request<'_>,
        slot: &'s mut Option<Box<dyn Registry + Send>>,
    ) -> Response<'s> {
        let mut r = self.serve_inner(req, slot);
        if self.realm != REALM {
            for (k, v) in r.headers.iter_mut() {
                if k.eq_ignore_ascii_case("WWW-Authenticate") {
                    *v = format!("Basic realm=\"{}\"", self.realm);
                }
            }
        }
        r
    }

    fn serve_inner<'s>(
        &'s self,
        req: &mut Request<'_>,
        slot: &'s mut Option<Box<dyn Registry + Send>>,
    ) -> Response<'s> {
        let url = req.url.clone();
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let Some(route) = parse_route(path) else {
            let mut r = Response::new(404).header("Content-Type", "text/plain; charset=utf-8");
            r.body = Body::Bytes(b"404 page not found\n".to_vec());
            return r;
        };
        let method = req.method.to_ascii_uppercase();
        let methods = allowed(route);
        if !methods.contains(&method.as_str()) {
            let mut r = Response::new(405)
                .header("Allow", methods.join(", "))
                .header("Content-Type", "text/plain; charset=utf-8");
            r.body = Body::Bytes(b"Method not allowed\n".to_vec());
            return r;
        }
        let creds = basic_credentials(req.header("Authorization"));
        let view = match (self.factory)(creds) {
            Ok(v) => slot.insert(v),
            Err(e) => return Fail::from(e).into_response(),
        };
        let reg: &'s dyn Registry = &**view;
        let query = parse_query(query);
        let q = |k: &str| {
            query
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_str())
        };
        let out = match route {
            Route::Base => self.base(reg),
            Route::Catalog => self.catalog(reg, q("n"), q("last")),
            Route::Tags(name) => self.tags(reg, name, q("n"), q("last")),
            Route::Manifest(name, r) => match method.as_str() {
                "GET" | "HEAD" => self.get_manifest(reg, name, r, &accepted(req), method == "HEAD"),
                "PUT" => self.put_manifest(reg, name, r, req),
                _ => self.delete_manifest(reg, name, r),
            },
            Route::Blob(name, d) => match method.as_str() {
                "GET" => self.get_blob(reg, name, d, false),
                "HEAD" => self.get_blob(reg, name, d, true),
                _ => self.delete_blob(reg, name, d),
            },
            Route::Uploads(name) if method == "POST" => {
                self.start_upload(reg, name, q("digest"), q("mount"), q("from"), req)
            }
            Route::Uploads(name) => check_name(name)
                .map_err(Fail::from)
                .and_then(|()| Err(RegistryError::code(Code::BlobUploadUnknown).into())),
            Route::Upload(name, uuid) => self.upload(reg, name, uuid, &method, q("digest"), req),
        };
        out.unwrap_or_else(Fail::into_response)
    }

    fn base<'r>(&self, reg: &dyn Registry) -> Outcome<'r> {
        reg.ping()?;
        // distribution writes the base answer as two bytes, without the
        // newline its JSON encoder adds elsewhere.
        let mut r = Response::new(200).json(&serde_json::json!({}));
        r.body = Body::Bytes(b"{}".to_vec());
        Ok(r)
    }

    fn catalog<'r>(&self, reg: &dyn Registry, n: Option<&str>, last: Option<&str>) -> Outcome<'r> {
        let n = page_size(n, Some(CATALOG_DEFAULT_ENTRIES))?;
        let all = reg.catalog()?;
        let (page, more) = paginate(&all, n, last);
        let mut r = Response::new(200);
        if let Some(next) = more {
            r = r.header(
                "Link",
                format!("</v2/_catalog?last={}&n={n}>; rel=\"next\"", escape(&next)),
            );
        }
        Ok(r.json(&serde_json::json!({ "repositories": page })))
    }

    fn tags<'r>(
        &self,
        reg: &dyn Registry,
        name: &str,
        n: Option<&str>,
        last: Option<&str>,
    ) -> Outcome<'r> {
        check_name(name)?;
        let n = page_size(n, None)?;
        let all = reg.tags(name)?;
        let (page, more) = paginate(&all, n, last);
        let mut r = Response::new(200);
        if let Some(next) = more {
            r = r.header(
                "Link",
                format!(
                    "</v2/{name}/tags/list?last={}&n={n}>; rel=\"next\"",
                    escape(&next)
                ),
            );
        }
        Ok(r.json(&serde_json::json!({ "name": name, "tags": page })))
    }

    fn get_manifest<'r>(
        &self,
        reg: &dyn Registry,
        name: &str,
        reference: &str,
        accept: &[String],
        head: bool,
    ) -> Outcome<'r> {
        check_name(name)?;
        let reference = RefSpec::parse(reference)?;
        let m = reg.get_manifest(name, &reference)?;
        // distribution serves an OCI manifest or index only to clients that
        // say they read one (curl without `-H Accept:` gets this).
        let refused = match m.media_type.as_str() {
            media::OCI_MANIFEST => {
                Some("OCI manifest found, but accept header does not support OCI manifests")
            }
            media::OCI_INDEX => {
                Some("OCI index found, but accept header does not support OCI indexes")
            }
            _ => None,
        };
        if let Some(message) = refused
            && !accept.iter().any(|a| a == &m.media_type)
        {
            return Err(Fail::new(
                404,
                Code::ManifestUnknown.as_str(),
                message,
                None,
            ));
        }
        let mut r = Response::new(200)
            .header("Content-Type", m.media_type.clone())
            .header("Docker-Content-Digest", m.digest.to_string())
            .header("Etag", format!("\"{}\"", m.digest));
        r.body = if head {
            Body::Length(m.bytes.len() as u64)
        } else {
            Body::Bytes(m.bytes)
        };
        Ok(r)
    }

    fn put_manifest<'r>(
        &self,
        reg: &dyn Registry,
        name: &str,
        reference: &str,
        req: &mut Request<'_>,
    ) -> Outcome<'r> {
        check_name(name)?;
        let reference = RefSpec::parse(reference)?;
        let media_type = req
            .header("Content-Type")
            .map(|t| t.split(';').next().unwrap_or_default().trim().to_string())
            .unwrap_or_default();
        let mut bytes = Vec::new();
        let limit = MAX_MANIFEST_BYTES as u64 + 1;
        (&mut *req.body)
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| Fail::spec(Code::ManifestInvalid, e.to_string()))?;
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(Fail::spec(
                Code::ManifestInvalid,
                format!("manifest body exceeds {MAX_MANIFEST_BYTES} bytes"),
            ));
        }
        let digest = reg.put_manifest(name, &reference, &media_type, &bytes)?;
        Ok(Response::new(201)
            .header("Location", format!("/v2/{name}/manifests/{digest}"))
            .header("Docker-Content-Digest", digest.to_string())
            .header("Content-Length", "0"))
    }

    fn delete_manifest<'r>(&self, reg: &dyn Registry, name: &str, reference: &str) -> Outcome<'r> {
        check_name(name)?;
        let reference = RefSpec::parse(reference)?;
        reg.delete_manifest(name, &reference)?;
        Ok(Response::new(202).header("Content-Length", "0"))
    }

    fn get_blob<'r>(&self, reg: &'r dyn Registry, name: &str, d: &str, head: bool) -> Outcome<'r> {
        check_name(name)?;
        let digest = parse_digest(d)?;
        let Some(size) = reg.stat_blob(name, &digest)? else {
            return Err(Fail::spec(Code::BlobUnknown, digest.to_string()));
        };
        let mut r = Response::new(200)
            .header("Content-Type", "application/octet-stream")
            .header("Docker-Content-Digest", digest.to_string())
            .header("Etag", format!("\"{digest}\""))
            .header("Cache-Control", "max-age=31536000")
            .header("Accept-Ranges", "bytes");
        r.body = if head {
            Body::Length(size)
        } else {
            let reader = reg.get_blob(name, &digest)?;
            Body::Stream {
                reader: Box::new(reader.take(size)),
                len: size,
            }
        };
        Ok(r)
    }

    fn delete_blob<'r>(&self, reg: &dyn Registry, name: &str, d: &str) -> Outcome<'r> {
        check_name(name)?;
        let digest = parse_digest(d)?;
        reg.delete_blob(name, &digest)?;
        Ok(Response::new(202)
            .header("Docker-Content-Digest", digest.to_string())
            .header("Content-Length", "0"))
    }

    fn blob_created<'r>(name: &str, digest: &Digest) -> Response<'r> {
        Response::new(201)
            .header("Location", format!("/v2/{name}/blobs/{digest}"))
            .header("Docker-Content-Digest", digest.to_string())
            .header("Content-Length", "0")
    }

    fn start_upload<'r>(
        &self,
        reg: &dyn Registry,
        name: &str,
        digest: Option<&str>,
        mount: Option<&str>,
        from: Option<&str>,
        req: &mut Request<'_>,
    ) -> Outcome<'r> {
        check_name(name)?;
        if let (Some(m), Some(from)) = (mount, from) {
            let d = parse_digest(m)?;
            if reg.mount_blob(name, from, &d)? {
                return Ok(Self::blob_created(name, &d));
            }
        } else if let Some(d) = digest {
            // A monolithic upload: the body is the blob.
            let d = parse_digest(d)?;
            let mut body = Capped {
                inner: &mut *req.body,
                left: self.max_upload,
                over: false,
            };
            let result = reg.put_blob(name, Some(&d), &mut body);
            if body.over {
                return Err(Fail::too_large(self.max_upload));
            }
            let (d, _) = result?;
            return Ok(Self::blob_created(name, &d));
        } else {
            authorize_push(reg, name)?;
        }
        let uuid = new_uuid();
        let dir = self.staging.join(&uuid);
        fs::create_dir_all(&dir).map_err(|e| Fail::io(&dir, e))?;
        let repo = dir.join("repo");
        fs::write(&repo, name).map_err(|e| Fail::io(&repo, e))?;
        let data = dir.join("data");
        fs::File::create(&data).map_err(|e| Fail::io(&data, e))?;
        Ok(Response::new(202)
            .header("Location", format!("/v2/{name}/blobs/uploads/{uuid}"))
            .header("Range", "0-0")
            .header("Docker-Upload-UUID", uuid)
            .header("Content-Length", "0"))
    }

    /// The session folder of `uuid` when it is one of ours, for `name`.
    fn session(&self, name: &str, uuid: &str) -> Result<PathBuf, Fail> {
        let unknown = || Fail::spec(Code::BlobUploadUnknown, uuid.to_string());
        if !valid_uuid(uuid) {
            return Err(unknown());
        }
        let dir = self.staging.join(uuid);
        match fs::read_to_string(dir.join("repo")) {
            Ok(owner) if owner == name && dir.join("data").is_file() => Ok(dir),
            _ => Err(unknown()),
        }
    }

    fn claim(&self, uuid: &str) -> Result<Busy<'_>, Fail> {
        let mut set = self
            .busy
            .lock()
            .map_err(|_| Fail::new(500, "UNKNOWN", "unknown error", None))?;
        if !set.insert(uuid.to_string()) {
            return Err(Fail::spec(
                Code::BlobUploadInvalid,
                "another request is writing to this upload",
            ));
        }
        Ok(Busy {
            set: &self.busy,
            uuid: uuid.to_string(),
        })
    }

    fn upload<'r>(
        &self,
        reg: &dyn Registry,
        name: &str,
        uuid: &str,
        method: &str,
        digest: Option<&str>,
        req: &mut Request<'_>,
    ) -> Outcome<'r> {
        check_name(name)?;
        authorize_push(reg, name)?;
        let dir = self.session(name, uuid)?;
        let _busy = self.claim(uuid)?;
        let data = dir.join("data");
        let size = fs::metadata(&data).map_err(|e| Fail::io(&data, e))?.len();
        let status = |size: u64| {
            vec![
                (
                    "Location".to_string(),
                    format!("/v2/{name}/blobs/uploads/{uuid}"),
                ),
                ("Range".to_string(), range(size)),
                ("Docker-Upload-UUID".to_string(), uuid.to_string()),
            ]
        };
        match method {
            "GET" => {
                let mut r = Response::new(204);
                r.headers.extend(status(size));
                Ok(r.header("Content-Length", "0"))
            }
            "DELETE" => {
                fs::remove_dir_all(&dir).map_err(|e| Fail::io(&dir, e))?;
                Ok(Response::new(204).header("Content-Length", "0"))
            }
            "PATCH" => {
                if let Some(cr) = req.header("Content-Range") {
                    let Some((start, end)) = parse_content_range(cr).filter(|(s, e)| s <= e) else {
                        return Err(range_invalid(status(size)));
                    };
                    if start != size {
                        return Err(range_invalid(status(size)));
                    }
                    if let Some(cl) = req.header("Content-Length")
                        && cl.trim().parse::<u64>().ok() != (end - start).checked_add(1)
                    {
                        return Err(Fail::spec(
                            Code::SizeInvalid,
                            format!("Content-Range {cr} and Content-Length {cl} differ"),
                        ));
                    }
                }
                let size = self.append(&data, size, req.body)?;
                let mut r = Response::new(202);
                r.headers.extend(status(size));
                Ok(r.header("Content-Length", "0"))
            }
            _ => {
                // PUT ?digest=: the last chunk (if any), then the blob.
                let Some(d) = digest else {
                    return Err(Fail::spec(Code::DigestInvalid, "digest missing"));
                };
                let d = parse_digest(d)?;
                self.append(&data, size, req.body)?;
                let f = fs::File::open(&data).map_err(|e| Fail::io(&data, e))?;
                let mut reader = io::BufReader::with_capacity(COPY_BUF, f);
                // On failure the session stays, as distribution keeps it: the
                // client may PUT the right digest or DELETE it.
                let (d, _) = reg.put_blob(name, Some(&d), &mut reader)?;
                let _ = fs::remove_dir_all(&dir);
                Ok(Self::blob_created(name, &d))
            }
        }
    }

    /// Appends a request body to a session's data, within the upload cap.
    /// Returns the new size. Over the cap, the data is cut back to `size`.
    fn append(&self, data: &Path, size: u64, body: &mut dyn Read) -> Result<u64, Fail> {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(data)
            .map_err(|e| Fail::io(data, e))?;
        let mut buf = vec![0u8; COPY_BUF];
        let mut total = size;
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Fail::spec(Code::BlobUploadInvalid, e.to_string()));
                }
            };
            total = match total.checked_add(n as u64) {
                Some(t) if t <= self.max_upload => t,
                _ => {
                    let _ = f.set_len(size);
                    return Err(Fail::too_large(self.max_upload));
                }
            };
            f.write_all(&buf[..n]).map_err(|e| Fail::io(data, e))?;
        }
        Ok(total)
    }
}

/// The media types of every `Accept` header (parameters dropped).
fn accepted(req: &Request<'_>) -> Vec<String> {
    req.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Accept"))
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.split(';').next().unwrap_or_default().trim().to_string())
        .collect()
}

/// Whether the caller may push to `name`, asked the registry's own way: a
/// mount of a blob from the repository into itself changes nothing, but is
/// checked as a push.
fn authorize_push(reg: &dyn Registry, name: &str) -> Result<(), Fail> {
    reg.mount_blob(name, name, &Digest::of(b""))?;
    Ok(())
}

/// distribution's `Range` header: `0-<last byte>` (`0-0` when empty).
fn range(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

fn range_invalid(headers: Vec<(String, String)>) -> Fail {
    Fail::new(416, "RANGE_INVALID", "invalid content range", None).with_headers(headers)
}

/// `start-end`, as distribution reads `Content-Range` (a `bytes ` or
/// `bytes=` prefix is tolerated).
fn parse_content_range(s: &str) -> Option<(u64, u64)> {
    let s = s.trim();
    let s = s
        .strip_prefix("bytes=")
        .or_else(|| s.strip_prefix("bytes "))
        .unwrap_or(s);
    let (a, b) = s.split_once('-')?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn parse_digest(s: &str) -> Result<Digest, Fail> {
    Digest::parse(s).map_err(|_| Fail::spec(Code::DigestInvalid, s.to_string()))
}

/// How many entries a page holds. The catalog reads `n` as distribution
/// 2.8 does (missing, not a number or negative: 100; over 1000: refused);
/// tag lists have no default limit and refuse a bad `n`.
fn page_size(n: Option<&str>, lenient_default: Option<usize>) -> Result<usize, Fail> {
    let refuse = |n: &str| {
        Fail::new(
            400,
            "PAGINATION_NUMBER_INVALID",
            "invalid number of results requested",
            Some(format!("n={n}")),
        )
    };
    match (n.map(|n| (n, n.trim().parse::<i64>())), lenient_default) {
        (None, Some(d)) => Ok(d),
        (None, None) => Ok(usize::MAX),
        (Some((_, Ok(v))), _) if (0..=MAX_ENTRIES as i64).contains(&v) => Ok(v as usize),
        (Some((n, Ok(v))), _) if v > MAX_ENTRIES as i64 => Err(refuse(n)),
        (Some(_), Some(d)) => Ok(d),
        (Some((n, _)), None) => Err(refuse(n)),
    }
}

/// The entries after `last`, at most `n`, and the last one returned when
/// more remain.
fn paginate(all: &[String], n: usize, last: Option<&str>) -> (Vec<String>, Option<String>) {
    let rest: Vec<&String> = match last {
        Some(l) if !l.is_empty() => all.iter().filter(|x| x.as_str() > l).collect(),
        _ => all.iter().collect(),
    };
    let page: Vec<String> = rest.iter().take(n).map(|s| s.to_string()).collect();
    let more = (rest.len() > page.len() && !page.is_empty())
        .then(|| page.last().cloned())
        .flatten();
    (page, more)
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
}

/// A server running in background threads; stopped by [`Running::stop`] or
/// when dropped.
pub struct Running {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Running {
    /// The address bound (the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests and waits for the accept loops to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Blocks until the server stops (it only stops when told to).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    fn shutdown(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
        // Wake the front door's accept with a connection of our own.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = std::net::TcpStream::connect_timeout(&wake, std::time::Duration::from_secs(1));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn bind_error(addr: &str, reason: impl std::fmt::Display) -> ServeError {
    ServeError::Bind {
        addr: addr.to_string(),
        reason: reason.to_string(),
    }
}

/// Binds `addr` (`127.0.0.1:5000`, or port 0 for any free one) and serves
/// `handler` from background threads.
///
/// tiny_http reads a request line until it sees CRLF, so a TLS ClientHello
/// (which clients such as skopeo and docker send first to a registry they
/// may reach insecurely) would hang there until the client's handshake
/// timeout (10 s) before it falls back to plain HTTP. So the address is
/// held by a front door that looks at each connection's first byte: a TLS
/// handshake gets Go's `400 Client sent an HTTP request to an HTTPS server`
/// at once, as distribution answers it; plain HTTP is relayed to tiny_http
/// on a loopback port of its own.
pub fn start(handler: Handler, addr: &str) -> Result<Running, ServeError> {
    let front = std::net::TcpListener::bind(addr).map_err(|e| bind_error(addr, e))?;
    let bound = front.local_addr().map_err(|e| bind_error(addr, e))?;
    let server = tiny_http::Server::http("127.0.0.1:0").map_err(|e| bind_error(addr, e))?;
    let inner = match server.server_addr() {
        tiny_http::ListenAddr::IP(a) => a,
        #[cfg(unix)]
        tiny_http::ListenAddr::Unix(_) => return Err(bind_error(addr, "not an IP address")),
    };
    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let handler = Arc::new(handler);
    let mut threads = Vec::new();
    {
        let server = Arc::clone(&server);
        let stop = Arc::clone(&stop);
        threads.push(
            std::thread::Builder::new()
                .name("registry-accept".into())
                .spawn(move || accept_loop(&server, &stop, &handler))
                .map_err(|e| bind_error(addr, e))?,
        );
    }
    {
        let stop = Arc::clone(&stop);
        threads.push(
            std::thread::Builder::new()
                .name("registry-front".into())
                .spawn(move || front_loop(&front, inner, &stop))
                .map_err(|e| bind_error(addr, e))?,
        );
    }
    Ok(Running {
        addr: bound,
        server,
        stop,
        threads,
    })
}

fn front_loop(front: &std::net::TcpListener, inner: SocketAddr, stop: &AtomicBool) {
    for conn in front.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        let _ = std::thread::Builder::new()
            .name("registry-conn".into())
            .spawn(move || relay(conn, inner));
    }
}

/// What Go's HTTP server answers a TLS handshake with.
const TLS_REFUSAL: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
const RELAY_BUF: usize = 256 << 10;

/// One client connection: refused when it opens with a TLS handshake
/// record, else relayed both ways to tiny_http until either side closes.
fn relay(client: std::net::TcpStream, inner: SocketAddr) {
    use std::net::Shutdown;
    let _ = client.set_nodelay(true);
    let mut first = [0u8; 1];
    match client.peek(&mut first) {
        Ok(1) => {}
        _ => return,
    }
    if first[0] == 0x16 {
        let _ = (&client).write_all(TLS_REFUSAL);
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let Ok(upstream) = std::net::TcpStream::connect(inner) else {
        return;
    };
    let _ = upstream.set_nodelay(true);
    let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let up = std::thread::Builder::new()
        .name("registry-relay".into())
        .spawn(move || {
            pump(&c2, &u2);
            let _ = u2.shutdown(Shutdown::Write);
        });
    pump(&upstream, &client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
    if let Ok(t) = up {
        let _ = t.join();
    }
}

fn pump(mut from: &std::net::TcpStream, mut to: &std::net::TcpStream) {
    let mut buf = vec![0u8; RELAY_BUF];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

fn accept_loop(server: &tiny_http::Server, stop: &AtomicBool, handler: &Arc<Handler>) {
    loop {
        let rq = server.recv();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(rq) = rq else { continue };
        let handler = Arc::clone(handler);
        // A request the thread could not be made for is dropped, which
        // tiny_http answers with a 500.
        let _ = std::thread::Builder::new()
            .name("registry-request".into())
            .spawn(move || respond(&handler, rq));
    }
}

/// The tiny_http glue: one request in, one response out.
fn respond(handler: &Handler, mut rq: tiny_http::Request) {
    let method = rq.method().as_str().to_string();
    let url = rq.url().to_string();
    let headers: Vec<(String, String)> = rq
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_string(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let mut slot = None;
    let resp = {
        let mut req = Request {
            method,
            url,
            headers,
            body: rq.as_reader(),
        };
        let resp = handler.serve(&mut req, &mut slot);
        // What the handler left unread is read here in small pieces
        // (tiny_http would otherwise buffer it whole).
        let _ = io::copy(req.body, &mut io::sink());
        resp
    };
    // A value with a control character (a stored manifest's `mediaType`
    // could hold one) is dropped rather than allowed to split the header.
    let headers: Vec<tiny_http::Header> = resp
        .headers
        .iter()
        .filter(|(_, v)| !v.bytes().any(|b| b < 0x20 || b == 0x7f))
        .filter_map(|(k, v)| tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).ok())
        .collect();
    let status = tiny_http::StatusCode(resp.status);
    let result = match resp.body {
        Body::Empty => rq.respond(tiny_http::Response::new(
            status,
            headers,
            io::empty(),
            Some(0),
            None,
        )),
        Body::Bytes(b) => {
            let len = b.len();
            rq.respond(
                tiny_http::Response::new(status, headers, io::Cursor::new(b), Some(len), None)
                    .with_chunked_threshold(usize::MAX),
            )
        }
        Body::Length(len) => rq.respond(
            tiny_http::Response::new(
                status,
                headers,
                io::empty(),
                usize::try_from(len).ok(),
                None,
            )
            .with_chunked_threshold(usize::MAX),
        ),
        Body::Stream { reader, len } => rq.respond(
            tiny_http::Response::new(
                status,
                headers,
                io::BufReader::with_capacity(COPY_BUF, reader),
                usize::try_from(len).ok(),
                None,
            )
            .with_chunked_threshold(usize::MAX),
        ),
    };
    // The client went away: nothing to tell anyone.
    let _ = result;
}

#[cfg(test)]
mod tests;
