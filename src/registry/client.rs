//! [`RemoteRegistry`]: the [`Registry`] trait over HTTP, for any registry
//! that speaks distribution's API (a real `registry:2`, `imagelab registry
//! serve`, a cloud registry), with `ureq`.
//!
//! Authentication follows the challenge the registry answers a request
//! with: `Basic` (the request is sent again with the credentials) or
//! `Bearer realm=…,service=…,scope=…` (a token is fetched from the realm,
//! with the credentials when there are any, and kept per scope). Blobs are
//! read through a [`VerifyingReader`] and redirects to storage are followed
//! (without the registry's `Authorization`). Uploads of up to 8 MiB go in
//! one `PUT`; longer ones stream in one `PATCH`, hashed as they go. Error
//! bodies become [`RegistryError::Spec`] with their code; a registry that is
//! not there is [`RegistryError::Unreachable`] with docker's words.

use super::{
    Code, Manifest, RefSpec, Registry, RegistryError, Result, VerifyingReader, check_name, media,
};
use crate::digest::{Digest, HashingWriter};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::Mutex;
use std::time::Duration;
use ureq::http;

/// Uploads up to this size are sent in one request.
pub const MONOLITHIC_LIMIT: usize = 8 << 20;
/// The largest manifest read back.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The largest error, token or listing body read.
const MAX_SMALL_BODY: u64 = 8 << 20;

/// A registry reached over HTTP(S).
pub struct RemoteRegistry {
    /// `http://host:port` or `https://host`, no trailing slash.
    base: String,
    /// `host:port`, as docker names it in dial errors.
    host_port: String,
    host: String,
    creds: Option<(String, String)>,
    agent: ureq::Agent,
    auth: Mutex<AuthState>,
}

#[derive(Default)]
struct AuthState {
    /// The registry asked for Basic credentials.
    basic: bool,
    /// Bearer tokens by the scope they were fetched for.
    tokens: HashMap<String, String>,
}

/// A request body: bytes can be sent again after a challenge, a stream
/// cannot.
enum Payload<'a> {
    None,
    Bytes(&'a [u8]),
    Stream(&'a mut dyn Read),
}

/// What a `WWW-Authenticate` header asks for.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

fn parse_challenge(h: &str) -> Option<Challenge> {
    let h = h.trim();
    let (scheme, params) = h.split_once(' ').unwrap_or((h, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut scope = None;
    for (k, v) in auth_params(params) {
        match k.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(v),
            "service" => service = Some(v),
            "scope" => scope = Some(v),
            _ => {}
        }
    }
    Some(Challenge::Bearer {
        realm: realm?,
        service,
        scope,
    })
}

/// `k="v", k2=v2`: quoted values may hold commas.
fn auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else {
            break;
        };
        let k = k.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, c2)) = chars.next() {
                            v.push(c2);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            (v, &q[end.min(q.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((k, v));
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// The next page's target in a `Link: <…>; rel="next"` header.
fn next_link(h: &str) -> Option<String> {
    h.split(',').find_map(|part| {
        let part = part.trim();
        if !part.contains("rel=\"next\"") && !part.contains("rel=next") {
            return None;
        }
        let start = part.find('<')? + 1;
        let end = part[start..].find('>')? + start;
        Some(part[start..end].to_string())
    })
}

/// Go's spelling of a method in `net/http` errors (`Get "…"`).
fn go_method(m: &str) -> String {
    let lower = m.to_ascii_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn header<'r>(resp: &'r http::Response<ureq::Body>, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

fn read_small(resp: &mut http::Response<ureq::Body>, limit: u64) -> Result<Vec<u8>> {
    resp.body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| RegistryError::Protocol(format!("reading a response: {e}")))
}

/// The error an unexpected answer stands for: the spec error of its body,
/// else one read from the status.
fn error_of(mut resp: http::Response<ureq::Body>) -> RegistryError {
    let status = resp.status().as_u16();
    let body = read_small(&mut resp, 1 << 20).unwrap_or_default();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body)
        && let Some(e) = v.get("errors").and_then(|e| e.get(0))
        && let Some(code) = e.get("code").and_then(|c| c.as_str()).and_then(Code::parse)
    {
        let message = e
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| code.message().to_string());
        let detail = match e.get("detail") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        return RegistryError::Spec {
            code,
            message,
            detail,
        };
    }
    match status {
        401 => RegistryError::code(Code::Unauthorized),
        403 => RegistryError::code(Code::Denied),
        405 => RegistryError::code(Code::Unsupported),
        429 => RegistryError::code(Code::TooManyRequests),
        _ => {
            let text = String::from_utf8_lossy(&body);
            let text = text.trim();
            RegistryError::Protocol(if text.is_empty() {
                format!("unexpected status {status}")
            } else {
                format!(
                    "unexpected status {status}: {}",
                    text.chars().take(200).collect::<String>()
                )
            })
        }
    }
}

/// A reader that hashes and counts what passes, and keeps the error its
/// source failed with (ureq reports only that the body failed).
struct Tee<'a> {
    inner: &'a mut dyn Read,
    hasher: HashingWriter<io::Sink>,
    failed: Option<io::Error>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.hasher.write_all(&buf[..n])?;
                Ok(n)
            }
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failed = Some(e);
                Err(copy)
            }
        }
    }
}

/// A scope a token is asked for (space-separated when several).
fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

impl RemoteRegistry {
    /// A client for the registry at `base` (`http://host:port`,
    /// `https://host`), with optional credentials (username, password).
    pub fn new(base: &str, creds: Option<(String, String)>) -> Result<RemoteRegistry> {
        let base = base.trim_end_matches('/');
        let (scheme, rest) = base
            .split_once("://")
            .ok_or_else(|| RegistryError::Protocol(format!("not an http(s) URL: {base}")))?;
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            _ => {
                return Err(RegistryError::Protocol(format!(
                    "not an http(s) URL: {base}"
                )));
            }
        };
        if rest.is_empty() || rest.contains('/') {
            return Err(RegistryError::Protocol(format!(
                "a registry URL is scheme://host[:port]: {base}"
            )));
        }
        let bad = || RegistryError::Protocol(format!("not a host[:port]: {rest}"));
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, tail) = v6.split_once(']').ok_or_else(bad)?;
            (format!("[{h}]"), tail.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (rest.to_string(), None),
            }
        };
        let host_port = match port {
            Some(p) if p.parse::<u16>().is_ok() => format!("{host}:{p}"),
            Some(_) => return Err(bad()),
            None if host == rest || rest.ends_with(']') => format!("{host}:{default_port}"),
            None => return Err(bad()),
        };
        if host.is_empty() || host == "[]" {
            return Err(bad());
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("imagelab/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .build()
            .into();
        Ok(RemoteRegistry {
            base: base.to_string(),
            host_port,
            host,
            creds,
            agent,
            auth: Mutex::new(AuthState::default()),
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A target the registry named (`Location`, `Link`): absolute, or a
    /// path on the registry.
    fn resolve(&self, target: &str) -> String {
        if target.starts_with("http://") || target.starts_with("https://") {
            target.to_string()
        } else if target.starts_with('/') {
            format!("{}{target}", self.base)
        } else {
            format!("{}/{target}", self.base)
        }
    }

    fn transport_error(&self, method: &str, url: &str, e: ureq::Error) -> RegistryError {
        let m = go_method(method);
        match e {
            ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
                RegistryError::Unreachable(format!(
                    "{m} \"{url}\": dial tcp {}: connect: connection refused",
                    self.host_port
                ))
            }
            ureq::Error::HostNotFound => RegistryError::Unreachable(format!(
                "{m} \"{url}\": dial tcp: lookup {}: no such host",
                self.host
            )),
            ureq::Error::Timeout(_) => RegistryError::Unreachable(format!(
                "{m} \"{url}\": dial tcp {}: i/o timeout",
                self.host_port
            )),
            ureq::Error::ConnectionFailed => RegistryError::Unreachable(format!(
                "{m} \"{url}\": dial tcp {}: connect: connection failed",
                self.host_port
            )),
            other => RegistryError::Protocol(format!("{m} \"{url}\": {other}")),
        }
    }

    fn basic_header(&self) -> Option<String> {
        use base64::Engine as _;
        let (u, p) = self.creds.as_ref()?;
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        ))
    }

    fn auth_header(&self, scope: &str) -> Option<String> {
        let st = self.auth.lock().ok()?;
        if let Some(t) = st.tokens.get(scope) {
            return Some(format!("Bearer {t}"));
        }
        if st.basic {
            return self.basic_header();
        }
        None
    }

    /// Answers a challenge: `true` when the request is worth sending again.
    fn answer(&self, challenge: &str, scope: &str) -> Result<bool> {
        match parse_challenge(challenge) {
            Some(Challenge::Basic) => {
                let mut st = self
                    .auth
                    .lock()
                    .map_err(|_| RegistryError::Protocol("auth state poisoned".into()))?;
                if st.basic || self.creds.is_none() {
                    return Ok(false);
                }
                st.basic = true;
                Ok(true)
            }
            Some(Challenge::Bearer {
                realm,
                service,
                scope: asked,
            }) => {
                let want = asked.unwrap_or_else(|| scope.to_string());
                let token = self.fetch_token(&realm, service.as_deref(), &want)?;
                let mut st = self
                    .auth
                    .lock()
                    .map_err(|_| RegistryError::Protocol("auth state poisoned".into()))?;
                let fresh = st.tokens.get(scope) != Some(&token);
                st.tokens.insert(scope.to_string(), token);
                Ok(fresh)
            }
            None => Ok(false),
        }
    }

    fn fetch_token(&self, realm: &str, service: Option<&str>, scope: &str) -> Result<String> {
        let mut req = self.agent.get(realm);
        if let Some(s) = service {
            req = req.query("service", s);
        }
        for s in scope.split(' ').filter(|s| !s.is_empty()) {
            req = req.query("scope", s);
        }
        if let Some((u, _)) = &self.creds {
            req = req.query("account", u);
        }
        if let Some(b) = self.basic_header() {
            req = req.header("Authorization", b);
        }
        let mut resp = req
            .call()
            .map_err(|e| self.transport_error("GET", realm, e))?;
        if resp.status().as_u16() != 200 {
            let e = error_of(resp);
            return Err(match e {
                RegistryError::Protocol(_) => RegistryError::code(Code::Unauthorized),
                e => e,
            });
        }
        let body = read_small(&mut resp, MAX_SMALL_BODY)?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Protocol(format!("token response from {realm}: {e}")))?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| RegistryError::Protocol(format!("no token in the answer of {realm}")))
    }

    /// Sends a request, answering one authentication challenge when the
    /// body can be sent again. Transport failures are errors; every HTTP
    /// answer is returned.
    fn send(
        &self,
        method: &str,
        url: &str,
        scope: &str,
        headers: &[(&str, &str)],
        mut body: Payload<'_>,
    ) -> Result<http::Response<ureq::Body>> {
        for attempt in 0..2 {
            let mut b = http::Request::builder().method(method).uri(url);
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            if let Some(a) = self.auth_header(scope) {
                b = b.header("Authorization", a);
            }
            let bad = |e: http::Error| RegistryError::Protocol(format!("{method} {url}: {e}"));
            let sent = match &mut body {
                Payload::None => self.agent.run(b.body(()).map_err(bad)?),
                Payload::Bytes(bytes) => self.agent.run(b.body(*bytes).map_err(bad)?),
                Payload::Stream(r) => self
                    .agent
                    .run(b.body(ureq::SendBody::from_reader(&mut **r)).map_err(bad)?),
            };
            let resp = sent.map_err(|e| self.transport_error(method, url, e))?;
            let replayable = !matches!(body, Payload::Stream(_));
            if resp.status().as_u16() == 401
                && attempt == 0
                && replayable
                && let Some(ch) = header(&resp, "WWW-Authenticate")
                && self.answer(ch, scope)?
            {
                continue;
            }
            return Ok(resp);
        }
        Err(RegistryError::code(Code::Unauthorized))
    }

    /// `send`, then the error of any status not in `ok`.
    fn expect(
        &self,
        method: &str,
        url: &str,
        scope: &str,
        headers: &[(&str, &str)],
        body: Payload<'_>,
        ok: &[u16],
    ) -> Result<http::Response<ureq::Body>> {
        let resp = self.send(method, url, scope, headers, body)?;
        if ok.contains(&resp.status().as_u16()) {
            Ok(resp)
        } else {
            Err(error_of(resp))
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /v2/<repo>/blobs/uploads/`: the session's location.
    fn start_upload(&self, repo: &str) -> Result<String> {
        let resp = self.expect(
            "POST",
            &self.url(&format!("/v2/{repo}/blobs/uploads/")),
            &push_scope(repo),
            &[],
            Payload::Bytes(&[]),
            &[202],
        )?;
        let loc = header(&resp, "Location")
            .ok_or_else(|| RegistryError::Protocol("upload started without a Location".into()))?;
        Ok(self.resolve(loc))
    }

    fn cancel_upload(&self, repo: &str, location: &str) {
        let _ = self.send("DELETE", location, &push_scope(repo), &[], Payload::None);
    }

    fn with_digest(location: &str, d: &Digest) -> String {
        let sep = if location.contains('?') { '&' } else { '?' };
        format!("{location}{sep}digest={d}")
    }

    /// Follows `Link` headers from `first`, collecting `key` of each page.
    fn list(&self, first: &str, scope: &str, key: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut url = first.to_string();
        for _ in 0..10_000 {
            let mut resp = self.expect("GET", &url, scope, &[], Payload::None, &[200])?;
            let next = header(&resp, "Link").and_then(next_link);
            let body = read_small(&mut resp, MAX_SMALL_BODY)?;
            let v: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::Protocol(format!("listing {url}: {e}")))?;
            if let Some(items) = v.get(key).and_then(|t| t.as_array()) {
                out.extend(items.iter().filter_map(|t| t.as_str()).map(str::to_string));
            }
            match next {
                Some(n) => url = self.resolve(&n),
                None => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

impl Registry for RemoteRegistry {
    fn ping(&self) -> Result<()> {
        let resp = self.send("GET", &self.url("/v2/"), "", &[], Payload::None)?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            _ => Err(error_of(resp)),
        }
    }

    fn stat_blob(&self, repo: &str, digest: &Digest) -> Result<Option<u64>> {
        check_name(repo)?;
        let resp = self.send(
            "HEAD",
            &self.url(&format!("/v2/{repo}/blobs/{digest}")),
            &pull_scope(repo),
            &[],
            Payload::None,
        )?;
        match resp.status().as_u16() {
            200 => Ok(Some(
                header(&resp, "Content-Length")
                    .and_then(|l| l.trim().parse().ok())
                    .ok_or_else(|| {
                        RegistryError::Protocol("blob answered without a Content-Length".into())
                    })?,
            )),
            404 => Ok(None),
            _ => Err(error_of(resp)),
        }
    }

    fn get_blob(&self, repo: &str, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        check_name(repo)?;
        let resp = self.send(
            "GET",
            &self.url(&format!("/v2/{repo}/blobs/{digest}")),
            &pull_scope(repo),
            &[],
            Payload::None,
        )?;
        match resp.status().as_u16() {
            200 => Ok(Box::new(VerifyingReader::new(
                resp.into_body().into_reader(),
                digest.clone(),
            ))),
            404 => {
                let e = error_of(resp);
                Err(match e {
                    RegistryError::Protocol(_) => {
                        RegistryError::with_detail(Code::BlobUnknown, digest.to_string())
                    }
                    e => e,
                })
            }
            _ => Err(error_of(resp)),
        }
    }

    fn put_blob(
        &self,
        repo: &str,
        expected: Option<&Digest>,
        body: &mut dyn Read,
    ) -> Result<(Digest, u64)> {
        check_name(repo)?;
        // Up to 8 MiB (and one byte more, to know whether the body ended).
        let mut head = Vec::new();
        body.take(MONOLITHIC_LIMIT as u64 + 1)
            .read_to_end(&mut head)
            .map_err(|e| RegistryError::with_detail(Code::BlobUploadInvalid, e.to_string()))?;
        let octet = [("Content-Type", "application/octet-stream")];
        if head.len() <= MONOLITHIC_LIMIT {
            let d = Digest::of(&head);
            if let Some(exp) = expected
                && exp != &d
            {
                return Err(RegistryError::with_detail(
                    Code::DigestInvalid,
                    format!("expected {exp}, got {d}"),
                ));
            }
            let loc = self.start_upload(repo)?;
            self.expect(
                "PUT",
                &Self::with_digest(&loc, &d),
                &push_scope(repo),
                &octet,
                Payload::Bytes(&head),
                &[201],
            )?;
            return Ok((d, head.len() as u64));
        }
        let loc = self.start_upload(repo)?;
        let mut chained = io::Cursor::new(head).chain(body);
        let mut tee = Tee {
            inner: &mut chained,
            hasher: HashingWriter::new(io::sink()),
            failed: None,
        };
        let sent = self.send(
            "PATCH",
            &loc,
            &push_scope(repo),
            &octet,
            Payload::Stream(&mut tee),
        );
        if let Some(e) = tee.failed.take() {
            self.cancel_upload(repo, &loc);
            return Err(RegistryError::with_detail(
                Code::BlobUploadInvalid,
                e.to_string(),
            ));
        }
        let resp = match sent {
            Ok(r) if r.status().as_u16() == 202 => r,
            Ok(r) => {
                let e = error_of(r);
                self.cancel_upload(repo, &loc);
                return Err(e);
            }
            Err(e) => {
                self.cancel_upload(repo, &loc);
                return Err(e);
            }
        };
        let loc = header(&resp, "Location")
            .map(|l| self.resolve(l))
            .unwrap_or(loc);
        let (d, size, _) = tee.hasher.finish();
        if let Some(exp) = expected
            && exp != &d
        {
            self.cancel_upload(repo, &loc);
            return Err(RegistryError::with_detail(
                Code::DigestInvalid,
                format!("expected {exp}, got {d}"),
            ));
        }
        self.expect(
            "PUT",
            &Self::with_digest(&loc, &d),
            &push_scope(repo),
            &octet,
            Payload::Bytes(&[]),
            &[201],
        )?;
        Ok((d, size))
    }

    fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        check_name(repo)?;
        check_name(from)?;
        let scope = format!("{} {}", push_scope(repo), pull_scope(from));
        let resp = self.expect(
            "POST",
            &self.url(&format!(
                "/v2/{repo}/blobs/uploads/?mount={digest}&from={from}"
            )),
            &scope,
            &[],
            Payload::Bytes(&[]),
            &[201, 202],
        )?;
        if resp.status().as_u16() == 201 {
            return Ok(true);
        }
        if let Some(loc) = header(&resp, "Location") {
            let loc = self.resolve(loc);
            self.cancel_upload(repo, &loc);
        }
        Ok(false)
    }

    fn delete_blob(&self, repo: &str, digest: &Digest) -> Result<()> {
        check_name(repo)?;
        self.expect(
            "DELETE",
            &self.url(&format!("/v2/{repo}/blobs/{digest}")),
            &format!("repository:{repo}:delete"),
            &[],
            Payload::None,
            &[200, 202, 204],
        )?;
        Ok(())
    }

    fn get_manifest(&self, repo: &str, reference: &RefSpec) -> Result<Manifest> {
        check_name(repo)?;
        let accept = media::ALL_MANIFESTS.join(", ");
        let mut resp = self.expect(
            "GET",
            &self.url(&format!("/v2/{repo}/manifests/{reference}")),
            &pull_scope(repo),
            &[("Accept", &accept)],
            Payload::None,
            &[200],
        )?;
        let declared = header(&resp, "Content-Type")
            .map(|t| t.split(';').next().unwrap_or_default().trim().to_string());
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_MANIFEST_BYTES)
            .read_to_vec()
            .map_err(|e| RegistryError::Protocol(format!("reading manifest {reference}: {e}")))?;
        let digest = Digest::of(&bytes);
        if let RefSpec::Digest(d) = reference
            && d != &digest
        {
            return Err(RegistryError::Protocol(format!(
                "manifest {d} has digest {digest}"
            )));
        }
        let media_type = match declared {
            Some(t) if media::ALL_MANIFESTS.contains(&t.as_str()) => t,
            _ => Manifest::type_of(&bytes).unwrap_or_else(|| media::OCI_MANIFEST.to_string()),
        };
        Ok(Manifest {
            media_type,
            digest,
            bytes,
        })
    }

    fn put_manifest(
        &self,
        repo: &str,
        reference: &RefSpec,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest> {
        check_name(repo)?;
        let media_type = if media_type.is_empty() {
            Manifest::type_of(bytes).unwrap_or_else(|| media::OCI_MANIFEST.to_string())
        } else {
            media_type.to_string()
        };
        let resp = self.expect(
            "PUT",
            &self.url(&format!("/v2/{repo}/manifests/{reference}")),
            &push_scope(repo),
            &[("Content-Type", &media_type)],
            Payload::Bytes(bytes),
            &[200, 201],
        )?;
        Ok(header(&resp, "Docker-Content-Digest")
            .and_then(|d| Digest::parse(d.trim()).ok())
            .unwrap_or_else(|| Digest::of(bytes)))
    }

    fn delete_manifest(&self, repo: &str, reference: &RefSpec) -> Result<()> {
        check_name(repo)?;
        self.expect(
            "DELETE",
            &self.url(&format!("/v2/{repo}/manifests/{reference}")),
            &format!("repository:{repo}:delete"),
            &[],
            Payload::None,
            &[200, 202, 204],
        )?;
        Ok(())
    }

    fn tags(&self, repo: &str) -> Result<Vec<String>> {
        check_name(repo)?;
        self.list(
            &self.url(&format!("/v2/{repo}/tags/list")),
            &pull_scope(repo),
            "tags",
        )
    }

    fn catalog(&self) -> Result<Vec<String>> {
        self.list(
            &self.url("/v2/_catalog"),
            "registry:catalog:*",
            "repositories",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_read_with_quoted_commas() {
        assert_eq!(
            parse_challenge("Basic realm=\"imagelab\""),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull,push\""
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/nginx:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Digest realm=x"), None);
    }

    #[test]
    fn link_headers_name_the_next_page() {
        assert_eq!(
            next_link("</v2/_catalog?last=b&n=2>; rel=\"next\"").as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(next_link("</x>; rel=\"prev\""), None);
    }

    #[test]
    fn base_urls_are_scheme_host_and_port() {
        let r = RemoteRegistry::new("http://127.0.0.1:5001/", None).unwrap();
        assert_eq!(r.base(), "http://127.0.0.1:5001");
        assert_eq!(r.host_port, "127.0.0.1:5001");
        let r = RemoteRegistry::new("https://registry.example", None).unwrap();
        assert_eq!(r.host_port, "registry.example:443");
        assert!(RemoteRegistry::new("ftp://x", None).is_err());
        assert!(RemoteRegistry::new("http://x/path", None).is_err());
        assert_eq!(r.resolve("/v2/a"), "https://registry.example/v2/a");
        assert_eq!(r.resolve("https://s3/x?y"), "https://s3/x?y");
    }
}
